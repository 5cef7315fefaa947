"""How device columns form signed weights: ``differential`` (pairs of adjacent columns, g+ and g-) or
``reference_column`` (every column against one shared reference column, the tile's last)."""

SCHEMES = ("differential", "reference_column")
