"""Delivery channels: e-mail, Slack, Microsoft Teams, a signed generic webhook and SMS.

Every channel implements `stormwatch.channels.base.Channel` — ``send(notification, target)``
returns a delivery id — and is registered in `stormwatch.channels.registry`. A new channel is
one module here plus its entry in the registry, its settings model in `stormwatch.watchlist`
and, when it needs AWS, its permission in template.yaml (a test holds the four together).
"""
