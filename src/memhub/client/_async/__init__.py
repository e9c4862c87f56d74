"""The hand-written async SDK. ``memhub/client/_sync`` is generated from it: edit here, then run
``python scripts/gen_sync_client.py``."""
