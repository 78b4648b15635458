"""The cloud fallback: the service (``server.py``, ``ar-translate serve``; ``ray_app.py`` on Ray Serve)
and the device's deadline-bound client (``client.py``, stdlib only). The routing that decides what
to ask and when lives on the device side, in ``edge/cloud.py`` (``CloudRoute``)."""
