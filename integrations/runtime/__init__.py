"""The runtime: makes what the engine decided happen in the real world, through Prefect 3.

- `sweep.py`     fire due timers in batches, mark late ones (plain functions)
- `dispatch.py`  deliver the outbox: inbox, e-mail, webhooks, letters, exports (plain functions)
- `flows.py`     the Prefect flows `carepath-sweep` and `carepath-dispatch` over those functions
- `loop.py`      carepath's own timer (`carepath serve`, `carepath sweep` without --once)
- `server.py`    `carepath serve`: web app + loop, state in the data directory
- `embedded.py`  Prefect's API server in a thread of carepath's process (no `PREFECT_API_URL`)
- `deploy.py`    production: deployments on a Prefect `process` work pool
- `config.py`, `directory.py`, `templates.py`, `channels.py`, `incidents.py`, `models.py`

Only `flows.py` and `deploy.py` import Prefect (and `embedded.py`, its server, in its own thread); `prefect_env.configure` must run first. See
docs/runtime.md and docs/deployment.md.
"""
