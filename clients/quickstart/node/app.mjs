// Quick start (业务系统快速接入): an Express business system logging people in with openid-client v6.
// Authorization code flow with PKCE S256, state and nonce; the verified ID token's claims on the
// page; RP-initiated logout with id_token_hint.
// Run: OIDC_ISSUER=… OIDC_CLIENT_ID=… OIDC_CLIENT_SECRET=… node app.mjs   (see ../README.md)
import crypto from 'node:crypto'
import express from 'express'
import session from 'express-session'
import * as client from 'openid-client'

const issuer = new URL(process.env.OIDC_ISSUER) // https://… in production
const port = Number(process.env.PORT ?? 5004)
const baseUrl = process.env.APP_BASE_URL ?? `http://127.0.0.1:${port}` // as registered

// openid-client refuses http. allowInsecureRequests lifts that, and is used here only for a
// provider on this machine (local testing); production issuers are https and never need it.
const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname)
const config = await client.discovery(
  issuer, process.env.OIDC_CLIENT_ID, undefined,
  client.ClientSecretBasic(process.env.OIDC_CLIENT_SECRET), // or ClientSecretPost, PrivateKeyJwt
  issuer.protocol === 'http:' && loopback ? { execute: [client.allowInsecureRequests] } : {})

const app = express()
app.use(session({ // MemoryStore: one process only; use a shared store (e.g. Redis) in production
  name: 'quickstart.sid', secret: process.env.APP_SECRET_KEY ?? crypto.randomBytes(32).toString('hex'),
  resave: false, saveUninitialized: false,
  cookie: { httpOnly: true, sameSite: 'lax', secure: baseUrl.startsWith('https:') },
}))

const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const page = (body) => `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>业务系统 (quick start)</title></head><body>${body}</body></html>`

app.get('/', (req, res) => {
  const c = req.session.claims
  res.send(page(c ? `<p>已登录 (logged in): <b id="name">${esc(req.session.name)}</b></p>
<dl><dt>sub</dt><dd id="sub">${esc(c.sub)}</dd><dt>acr (可信等级)</dt><dd id="acr">${esc(c.acr)}</dd>
<dt>amr</dt><dd id="amr">${esc((c.amr ?? []).join(' '))}</dd></dl>
<p><a id="logout" href="/logout">退出 (log out)</a></p>`
    : `<p id="status">未登录 (not logged in)</p>
<p><a id="login" href="/login">使用统一身份认证登录 (log in)</a></p>`))
})

app.get('/login', async (req, res) => {
  const flow = { verifier: client.randomPKCECodeVerifier(), state: client.randomState(),
    nonce: client.randomNonce() }
  req.session.flow = flow
  res.redirect(client.buildAuthorizationUrl(config, {
    redirect_uri: `${baseUrl}/callback`, scope: 'openid profile phone',
    code_challenge: await client.calculatePKCECodeChallenge(flow.verifier),
    code_challenge_method: 'S256', state: flow.state, nonce: flow.nonce,
  }).href)
})

app.get('/callback', async (req, res) => {
  const flow = req.session.flow
  delete req.session.flow
  if (!flow) return res.status(400).send(page('<p id="error">no login in progress</p>'))
  // Checks state, sends the PKCE verifier, verifies the ID token (signature, iss, aud, exp,
  // nonce). An error from the platform (e.g. access_denied) throws.
  const tokens = await client.authorizationCodeGrant(config, new URL(req.originalUrl, baseUrl), {
    pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce,
  })
  const claims = tokens.claims() // sub, acr (可信等级 "2"–"5"), amr, sid …
  // Profile and phone claims come from UserInfo (which must name the same sub).
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
  req.session.regenerate((err) => { // a new session id once logged in
    if (err) return res.status(500).end()
    Object.assign(req.session, { claims, name: info.name, idToken: tokens.id_token })
    res.redirect('/')
  })
})

app.get('/logout', (req, res) => {
  const idToken = req.session.idToken
  req.session.destroy(() => res.redirect(idToken ? client.buildEndSessionUrl(config, {
    id_token_hint: idToken, post_logout_redirect_uri: `${baseUrl}/`, state: client.randomState(),
  }).href : '/'))
})

app.use((err, req, res, next) => { // failed logins: say why, without the stack
  res.status(400).send(page(`<p id="error">${esc(err.error ?? err.code ?? err.message)}</p>`))
})

app.listen(port, '127.0.0.1', () => console.log(`quick start listening on ${baseUrl}`))
