"""The cloud fallback: the service (``server.py``, ``ar-translate serve``; ``ray_app.py`` on Ray Serve)
and the device's deadline-bound client (``client.py``, stdlib only). The routing that decides what
to ask and when lives with the other translation tiers in ``edge/translate.py`` (``CloudRoute``)."""
