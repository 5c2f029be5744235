"""vmlife's own plugins: the Azure lifecycle itself, registered like any other plugin."""
