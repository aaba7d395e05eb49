"""`python -m clients.sample_rp`: run the sample business system."""

from clients.sample_rp import main

main()
