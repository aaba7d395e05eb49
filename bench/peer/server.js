// panva/oidc-provider configured like unified-idp, for bench/run.py (not for production).
//
// Environment: BENCH_PORT, BENCH_CLIENT_ID, BENCH_CLIENT_SECRET, BENCH_REDIRECT_URI.
// Like ours: RS256 ID tokens, RS256 JWT access tokens (for client_credentials and for codes
// requested with resource=urn:bench:api), refresh tokens rotate on every use, PKCE (S256)
// required, introspection and userinfo on, one client_secret_basic client that skips consent
// (first party), a fixed account. Storage is in memory, in one process.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider, { errors } from 'oidc-provider';

const port = Number(process.env.BENCH_PORT || 5100);
const issuer = `http://127.0.0.1:${port}`;
const API = 'urn:bench:api';

// In-memory storage without eviction or O(n) work per write. (The stock memory adapter keeps an
// LRU of ~2000 entries, which would evict pre-generated codes, and rescans a grant's whole token
// list on every write, which slows down as one grant collects thousands of codes and tokens.)
const entries = new Map(); // `${model}:${id}` -> { payload, expires }
const grantMembers = new Map(); // grantId -> Set of entry keys
const secondary = new Map(); // `uid:${uid}` or `userCode:${code}` -> id

function live(key) {
  const entry = entries.get(key);
  if (entry && entry.expires && entry.expires <= Date.now()) {
    entries.delete(key);
    return undefined;
  }
  return entry?.payload;
}

class MapAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    entries.set(key, { payload, expires: expiresIn ? Date.now() + expiresIn * 1000 : 0 });
    if (this.model === 'Session') secondary.set(`uid:${payload.uid}`, id);
    if (payload.userCode) secondary.set(`userCode:${payload.userCode}`, id);
    if (payload.grantId) {
      if (!grantMembers.has(payload.grantId)) grantMembers.set(payload.grantId, new Set());
      grantMembers.get(payload.grantId).add(key);
    }
  }

  async find(id) {
    return live(this.key(id));
  }

  async findByUid(uid) {
    const id = secondary.get(`uid:${uid}`);
    return id && this.find(id);
  }

  async findByUserCode(userCode) {
    const id = secondary.get(`userCode:${userCode}`);
    return id && this.find(id);
  }

  async consume(id) {
    const payload = live(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    entries.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of grantMembers.get(grantId) ?? []) entries.delete(key);
    grantMembers.delete(grantId);
  }
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'rs256-bench', alg: 'RS256', use: 'sig' };

// Every login names the same person (devInteractions accepts any login and password).
const findAccount = async (ctx, id) => ({
  accountId: id,
  async claims() {
    return { sub: id, name: 'Bench User', preferred_username: 'benchuser', updated_at: 1700000000 };
  },
});

const configuration = {
  adapter: MapAdapter,
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  clients: [{
    client_id: process.env.BENCH_CLIENT_ID || 'bench',
    client_secret: process.env.BENCH_CLIENT_SECRET,
    redirect_uris: [process.env.BENCH_REDIRECT_URI || 'http://127.0.0.1:9/cb'],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  }],
  claims: {
    openid: ['sub'], profile: ['name', 'preferred_username', 'updated_at'], acr: null, auth_time: null, sid: null,
  },
  findAccount,
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: true }, // the login form accepts any login
    introspection: { enabled: true },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (ctx, client, oneOf) => oneOf
        ?? (ctx.oidc.params?.grant_type === 'client_credentials' ? API : undefined),
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, resource) => {
        if (resource !== API) throw new errors.InvalidTarget();
        return {
          scope: 'api', audience: API, accessTokenTTL: 600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  pkce: { required: () => true },
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  // First-party client: grant what is asked without a consent page (ours: --first-party).
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    const existing = grantId && await ctx.oidc.provider.Grant.find(grantId);
    if (existing) return existing;
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.account.accountId });
    grant.addOIDCScope('openid profile');
    grant.addResourceScope(API, 'api');
    await grant.save();
    return grant;
  },
  ttl: {
    AccessToken: 600, AuthorizationCode: 60, ClientCredentials: 600, IdToken: 600, RefreshToken: 30 * 24 * 3600,
    Grant: 30 * 24 * 3600, Interaction: 3600, Session: 12 * 3600,
  },
};

const provider = new Provider(issuer, configuration);
provider.on('server_error', (ctx, err) => console.error('server_error', err));
createServer(provider.callback()).listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
