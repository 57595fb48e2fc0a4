"""The provider catalogue: ``get("ddg")`` or ``get("darkai")``."""
