"""The bot process: configuration, start-up and the administrator's command line."""
