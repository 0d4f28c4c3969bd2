"""The REST API of ``digpy server`` (docs/api.md): Digdag 0.10's paths and camelCase JSON.

One module per noun (projects, workflows, schedules, sessions, attempts, logs, secrets,
metrics); handlers are plain functions of an ``ApiRequest`` that call the store and the
engine, never SQL. ``app.create_app`` assembles them with auth, draining and error handling;
``serve.ApiServer`` runs the app with uvicorn on a thread of the daemon.
"""
