"""`python -m clients.sms_gateway_sim`."""

from clients.sms_gateway_sim import main

main()
