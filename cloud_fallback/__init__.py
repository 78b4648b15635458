"""Cloud fallback service and client. Not built yet: the pipeline runs fully on the device, and
``--offline`` is what every run does today (see the README's status section)."""
