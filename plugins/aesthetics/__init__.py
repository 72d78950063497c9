"""aesthetics plugin (placeholder until its issue lands): registers no trigger kinds yet."""


class _Plugin:
    name = "aesthetics"


plugin = _Plugin()
