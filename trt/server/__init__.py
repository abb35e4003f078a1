"""The server side of `trt serve`: the HTTP app (`app`: health, readiness, metrics, the
Telegram webhook, the KIE callback) and the serve process (`process`: the app, the bot's
update workers, the leader's loops, shutdown). The command itself is `trt.cli.serve`."""
