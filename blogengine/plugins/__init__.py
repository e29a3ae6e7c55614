"""The example plugins shipped with blogengine, enabled by name in `[plugins] enabled`."""
