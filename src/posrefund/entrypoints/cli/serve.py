"""``posrefund serve|worker|simulate``: the long-running processes — the API, the refund worker, and the
channel simulators that let the demo go all the way to the channels and back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from posrefund.entrypoints.cli.common import app, build_deps, err, settings

if TYPE_CHECKING:
    from posrefund.config import Settings
    from posrefund.demo.channels import Simulated
    from posrefund.entrypoints.worker import WorkerOptions
    from posrefund.service.deps import Deps
    from posrefund.service.execution import Router


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    with_simulators: Annotated[
        bool, typer.Option("--with-simulators", help="start the channel simulators and a worker here (demo)")
    ] = False,
    workers: Annotated[int, typer.Option(help="server processes (not with --with-simulators)")] = 1,
) -> None:
    """Serve the API; with --with-simulators the demo goes all the way to the channels and back."""
    if workers > 1:
        if with_simulators:
            err.print("[red]--workers and --with-simulators do not go together[/red]")
            raise typer.Exit(2)
        _serve_processes(host, port, workers)
        return
    _serve_in_process(host, port, with_simulators)


def _serve_processes(host: str, port: int, workers: int) -> None:
    """Several server processes, each building its own app from the environment and ending with this one
    (entrypoints/api/serving.py: a killed supervisor leaves no worker holding the port)."""
    import uvicorn

    from posrefund.entrypoints.api.serving import uvicorn_options

    announce(build_deps(), host, port)  # building the deps fails early, with a clear message, on missing keys
    uvicorn.run(
        "posrefund.entrypoints.api.serving:build_worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        **uvicorn_options(settings()),
    )


def _serve_in_process(host: str, port: int, with_simulators: bool) -> None:
    """One server process; with the simulators, a worker thread here executes refunds on them."""
    import uvicorn

    from posrefund import bootstrap
    from posrefund.demo import sms_inbox
    from posrefund.entrypoints import worker
    from posrefund.entrypoints.api.factory import app_from_settings
    from posrefund.entrypoints.api.serving import uvicorn_options
    from posrefund.entrypoints.metrics import ChannelCallMetrics

    current = settings()
    if with_simulators and "public_url" not in current.model_fields_set:  # the demo's links lead to this server
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 (a link, not a bind)
        current = current.model_copy(update={"public_url": f"http://{shown}:{port}"})
    deps = build_deps()
    sims = _start_simulators(current, host, port) if with_simulators else None
    router = sims.router if sims is not None else bootstrap.build_router(current, deps)
    bootstrap.load_calendar_overrides(deps, router)
    sink = sims.simulators.get("sms") if sims is not None else None
    notify_router = bootstrap.build_notify_router(current, {"sms": sms_inbox.gateway(sink)} if sink else None)
    application = app_from_settings(current, deps, router, notify_router)
    if sink is not None:  # the console's demo inbox page reads what the sink received
        application.state.demo_inbox = sms_inbox.reader(sink)
    if with_simulators:  # the worker thread's channel calls in this server's own /metrics
        router.observe = ChannelCallMetrics(application.state.ops.registry).observe
    _thread, stop = (
        worker.start_in_thread(deps, router, notify_router=notify_router, options=worker_options(current))
        if with_simulators
        else (None, None)
    )
    announce(deps, host, port, inbox=sink is not None)
    try:
        uvicorn.run(application, host=host, port=port, **uvicorn_options(current))
    finally:
        if stop is not None:
            stop.set()
        if sims is not None:
            sims.close()


def announce(deps: Deps, host: str, port: int, *, inbox: bool = False) -> None:
    """Where the console is (and the demo's SMS inbox, when its sink runs) and, when the demo merchant is
    there, who may sign in to it: its operators with their roles and the demo's password, as ``posrefund
    demo`` seeded them."""
    from posrefund.demo.seed import DEMO_PASSWORD, demo_accounts
    from posrefund.demo.sms_inbox import PATH as INBOX_PATH
    from posrefund.entrypoints.console.texts import label

    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - the address a browser opens
    err.print(f"控制台 / console: http://{shown}:{port}/console/", soft_wrap=True)
    if inbox:
        err.print(f"演示短信收件箱 / demo SMS inbox: http://{shown}:{port}{INBOX_PATH}", soft_wrap=True)
    with deps.uow(readonly=True) as uow:
        demo = uow.merchants.merchant_code_taken("DEMO")
    if not demo:
        return
    err.print("演示账号 / demo operators:")
    for username, role, _name in demo_accounts():
        err.print(
            f"  {username:<20} {role:<18} {label('role', role, 'zh'):<10} password: {DEMO_PASSWORD}", soft_wrap=True
        )


def _start_simulators(current: Settings, host: str, port: int) -> Simulated:
    """The three channel simulators on the configured ports, calling back to this server; and, unless a
    notify file names real gateways, the local SMS sink the demo's customers are told through."""
    from posrefund.demo import channels as demo_channels
    from posrefund.demo import sms_inbox

    sims = demo_channels.start(
        f"http://{host}:{port}",
        wechat_port=current.sim_wechat_port,
        acquirer_port=current.sim_acquirer_port,
        alipay_port=current.sim_alipay_port,
    )
    if current.notify_file is None:
        sims.simulators["sms"] = sims.stack.enter_context(sms_inbox.sink())
    for name, sim in sims.simulators.items():
        err.print(f"simulator {name}: {getattr(sim, 'base_url', None) or getattr(sim, 'address', '')}")
    return sims


@app.command("worker")
def run_worker(
    once: Annotated[bool, typer.Option("--once", help="one sweep, then exit")] = False,
    threads: Annotated[
        int | None, typer.Option(min=1, max=256, help="channel calls in flight (env POSREFUND_WORKER__THREADS)")
    ] = None,
    poll: Annotated[
        float | None,
        typer.Option(min=0.01, max=60, help="seconds between looks for due cases (env POSREFUND_WORKER__POLL_SECONDS)"),
    ] = None,
    idle: Annotated[float | None, typer.Option(min=0.01, max=60, hidden=True, help="the former name of --poll")] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=1, max=65535, help="serve this worker's Prometheus metrics here (env POSREFUND_WORKER__METRICS_PORT)"
        ),
    ] = None,
) -> None:
    """Execute approved refunds on their channels and follow the ones in flight (stop with Ctrl-C / SIGTERM;
    a second one exits at once)."""
    import threading

    from posrefund import bootstrap
    from posrefund.entrypoints import heap, worker
    from posrefund.entrypoints.metrics import worker_metrics

    current = settings()
    deps = build_deps()
    calls = worker_metrics(metrics_port or current.worker.metrics_port, current.worker.metrics_host)

    def build() -> Router:
        router = worker.with_file_rules(bootstrap.build_router(current, deps), current.channels_file)
        router.observe = calls.observe  # channel-call metrics and log lines, kept across a channels-file reload
        return router

    options = worker_options(current, threads, poll or idle)
    options.channels = worker.ChannelsFileWatch(current.channels_file, build)
    stop = threading.Event()
    worker.install_signal_handlers(stop, options.wake)
    notify_router = bootstrap.build_notify_router(current)
    router = build()
    if not once:
        heap.settle()
    steps = worker.run(deps, router, stop, once=once, notify_router=notify_router, options=options)
    err.print(f"worker stopped after {steps} steps")
    if options.left_running:
        # Python would wait for those threads at exit, past the bound: end here (their leases run out and
        # the next worker asks the channel first).
        import logging
        import os

        err.print(f"{options.left_running} channel call(s) still under way: exiting without them")
        logging.shutdown()
        os._exit(0)


def worker_options(current: Settings, threads: int | None = None, poll: float | None = None) -> WorkerOptions:
    """The worker's settings, with the command line's flags over the environment's."""
    from posrefund.entrypoints.worker import WorkerOptions

    w = current.worker
    return WorkerOptions(
        threads=threads or w.threads,
        poll_seconds=poll or w.poll_seconds,
        batch=w.batch,
        shutdown_seconds=w.shutdown_seconds,
    )


@app.command("simulate", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def simulate(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="acquirer | wechatpay | alipay | sms_gateway")],
) -> None:
    """Run one channel simulator in the foreground (its own options follow, e.g. --port 9101 --fault-rate 0.3)."""
    import importlib

    if name not in ("acquirer", "wechatpay", "alipay", "sms_gateway"):
        err.print(f"[red]unknown simulator {name}[/red]")
        raise typer.Exit(2)
    module = importlib.import_module(f"posrefund.simulators.{name}.server")
    raise typer.Exit(module.main(list(ctx.args)) or 0)
