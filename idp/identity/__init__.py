"""A person's real-name status (实名状态): verification records, the trust level derived from
them, and the cases opened when two accounts claim one identity document. Wraps `realname`."""
