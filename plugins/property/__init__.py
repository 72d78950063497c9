"""property plugin (placeholder until its issue lands): registers no trigger kinds yet."""


class _Plugin:
    name = "property"


plugin = _Plugin()
