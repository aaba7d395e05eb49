"""store every client's sector identifier: a client registered without one used its redirect
URIs' host, recomputed on every token, so adding a redirect URI could change pairwise `sub`

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 16:00:00

"""
import json
from urllib.parse import urlparse

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT id, redirect_uris FROM oauth_client WHERE sector_identifier IS NULL")).all()
    for row_id, uris in rows:
        uris = json.loads(uris) if isinstance(uris, str) else (uris or [])
        hosts = sorted({h for h in (urlparse(u).hostname for u in uris) if h})
        if hosts:
            conn.execute(sa.text("UPDATE oauth_client SET sector_identifier = :s WHERE id = :i"),
                         {"s": hosts[0], "i": row_id})


def downgrade():
    pass  # the stored value equals what was computed before
