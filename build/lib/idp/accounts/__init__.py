"""Natural-person accounts: the account record, password login and the SSO session."""
