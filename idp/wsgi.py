"""The WSGI application for servers that import it by name (`idp serve` under granian, or any
WSGI server: `idp.wsgi:app`). Settings come from the environment, as for the CLI."""

from idp import create_app

app = create_app()
