package cn.gov.gd.quickstart;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configuration.EnableWebSecurity;
import org.springframework.security.oauth2.client.oidc.web.logout.OidcClientInitiatedLogoutSuccessHandler;
import org.springframework.security.oauth2.client.registration.ClientRegistrationRepository;
import org.springframework.security.oauth2.client.web.DefaultOAuth2AuthorizationRequestResolver;
import org.springframework.security.oauth2.client.web.OAuth2AuthorizationRequestCustomizers;
import org.springframework.security.web.SecurityFilterChain;

/**
 * OpenID Connect login: authorization code flow with PKCE S256, state and nonce, and
 * RP-initiated logout with id_token_hint.
 */
@Configuration
@EnableWebSecurity
public class SecurityConfig {

	@Bean
	SecurityFilterChain securityFilterChain(HttpSecurity http, ClientRegistrationRepository registrations)
			throws Exception {
		// Spring Security sends state and nonce by itself, but PKCE only for public clients.
		// The platform requires PKCE from every client, so add it for this confidential one.
		// (Spring Security 7 / Spring Boot 4 sends it by default; the customizer is then a no-op.)
		DefaultOAuth2AuthorizationRequestResolver resolver = new DefaultOAuth2AuthorizationRequestResolver(
				registrations, "/oauth2/authorization");
		resolver.setAuthorizationRequestCustomizer(OAuth2AuthorizationRequestCustomizers.withPkce());

		// After the local logout, send the browser to the platform's end_session_endpoint with
		// id_token_hint and this post_logout_redirect_uri (register it exactly: …:8080/).
		OidcClientInitiatedLogoutSuccessHandler logoutSuccess = new OidcClientInitiatedLogoutSuccessHandler(
				registrations);
		logoutSuccess.setPostLogoutRedirectUri("{baseUrl}/");

		http.authorizeHttpRequests((authorize) -> authorize
				.requestMatchers("/", "/error").permitAll()
				.anyRequest().authenticated())
			.oauth2Login((login) -> login
				.authorizationEndpoint((endpoint) -> endpoint.authorizationRequestResolver(resolver)))
			.logout((logout) -> logout.logoutSuccessHandler(logoutSuccess));
		return http.build();
	}

}
