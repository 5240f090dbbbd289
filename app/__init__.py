"""The application shell: the only place that wires the core, storage, jobs and the bot
together (the `trialbot` command, the long-lived service, `doctor` and the health endpoint)."""
