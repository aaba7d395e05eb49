"""The OAuth 2.0 / OpenID Connect surface; the only server package that imports Authlib."""
