package cn.gov.gd.quickstart;

import java.util.List;

import org.springframework.http.MediaType;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.security.oauth2.core.oidc.OidcIdToken;
import org.springframework.security.oauth2.core.oidc.user.OidcUser;
import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import static org.springframework.web.util.HtmlUtils.htmlEscape;

/** The home page: a login link, or the logged-in person's claims and a logout button. */
@RestController
public class ClaimsController {

	@GetMapping(path = "/", produces = MediaType.TEXT_HTML_VALUE + ";charset=UTF-8")
	public String home(@AuthenticationPrincipal OidcUser user, CsrfToken csrf) {
		String body;
		if (user == null) {
			body = "<p id=\"status\">未登录 (not logged in)</p>"
					+ "<p><a id=\"login\" href=\"/oauth2/authorization/idp\">使用统一身份认证登录 (log in)</a></p>";
		}
		else {
			OidcIdToken idToken = user.getIdToken(); // verified: signature, iss, aud, exp, nonce
			body = "<p>已登录 (logged in): <b id=\"name\">" + escape(user.getFullName()) + "</b></p>"
					+ "<dl><dt>sub</dt><dd id=\"sub\">" + escape(idToken.getSubject()) + "</dd>"
					// trust level (可信等级) "2"–"5": always read it from the ID token
					+ "<dt>acr (可信等级)</dt><dd id=\"acr\">" + escape(idToken.getAuthenticationContextClass()) + "</dd>"
					+ "<dt>amr</dt><dd id=\"amr\">" + escape(join(idToken.getAuthenticationMethods())) + "</dd></dl>"
					+ "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\""
					+ csrf.getParameterName() + "\" value=\"" + csrf.getToken() + "\">"
					+ "<button id=\"logout\" type=\"submit\">退出 (log out)</button></form>";
		}
		return "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
				+ "<title>业务系统 (quick start)</title></head><body>" + body + "</body></html>";
	}

	private static String escape(String value) {
		return (value == null) ? "" : htmlEscape(value);
	}

	private static String join(List<String> values) {
		return (values == null) ? "" : String.join(" ", values);
	}

}
