"""SMS gateways: one small interface, a signed HTTP adapter and a development outbox."""
