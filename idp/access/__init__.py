"""Business systems, the service-item catalogue (事项目录), connection status, and the access rates
(接入率) measured against the provincial targets from the platform's own login evidence."""
