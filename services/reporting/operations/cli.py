"""`wwc ops`: the operator console in a terminal, over reporting's operator API.

    wwc ops status [--cycle 2026]          submissions per stage and cycle
    wwc ops stuck [--older-than 7d]        open certifications, longest waiting first
    wwc ops breaches                       reviews past their due date
    wwc ops appeals [--open|--decided]     certifications in appeal (due date, status) and decided
    wwc ops failing                        steps failed on bad data; activities retrying
    wwc ops parked                         parked messages of every service
    wwc ops replay EVENT_ID                replay one, and wait for the outcome
    wwc ops retry SUBMISSION_ID            run a submission's failed step again
    wwc ops timeline SUBMISSION_ID         what happened, when, by whom
    wwc ops find [--stage S] [--cycle C] [--city N] [--auditor ID]   by search attribute
    wwc ops gaps                           workflows at another stage than the services' records
    wwc ops rewind --to TIME               after a restore without Temporal: workflows back to TIME

Signs in with an operator token (`--token` or WWC_OPS_TOKEN), or asks for the operator's
email and password and gets one from intake."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import time
from datetime import UTC, datetime

import httpx
from rich.console import Console
from rich.table import Table

from shared.infra.settings import service_urls
from shared.web.signin import IdentityClient

out = Console()
err = Console(stderr=True)


class OpsError(Exception):
    pass


def _token(args: argparse.Namespace) -> str:
    token = args.token or os.environ.get("WWC_OPS_TOKEN", "")
    if token:
        return token
    try:
        email = args.email or input("Operator email: ")
    except EOFError:
        email = ""
    if not email.strip():
        raise OpsError("no operator to sign in as: give --email, --token or WWC_OPS_TOKEN")
    try:
        password = getpass.getpass("Password: ")
    except EOFError:
        raise OpsError("no password given") from None
    try:
        return asyncio.run(IdentityClient(args.identity_url or None).token(email, password))
    except Exception as exc:  # SignInFailed, RateLimited, Unavailable: said plainly
        raise OpsError(f"sign-in failed: {exc}") from exc


def _client(args: argparse.Namespace) -> httpx.Client:
    return httpx.Client(base_url=args.url.rstrip("/"), timeout=30,
                        headers={"authorization": f"Bearer {_token(args)}", "accept": "application/json"})


def _call(http: httpx.Client, method: str, path: str, **kwargs):
    try:
        r = http.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        raise OpsError(f"reporting cannot be reached at {http.base_url}: {exc}") from exc
    if r.status_code >= 400:
        try:
            body = r.json()
            detail = body.get("detail") or body.get("title") or r.text
            fields = "; ".join(f"{e.get('field')}: {e.get('reason')}" for e in body.get("errors", []))
        except ValueError:
            detail, fields = r.text[:300], ""
        raise OpsError(f"{r.status_code} {detail}{' (' + fields + ')' if fields else ''}")
    return r.json()


def _age(iso: str | None) -> str:
    if not iso:
        return "-"
    seconds = (datetime.now(UTC) - datetime.fromisoformat(iso)).total_seconds()
    days, rest = divmod(int(max(seconds, 0)), 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days}d {hours}h" if days else f"{hours}h {rest // 60}m"


def _when(iso: str | None) -> str:
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M") if iso else "-"


def _certifications(title: str, rows: list[dict]) -> Table:
    table = Table(title=title, title_justify="left")
    for col in ("city", "cycle", "stage", "waiting for", "in stage", "due", "submission"):
        table.add_column(col, overflow="fold")
    for r in rows:
        due = _when(r["due_at"]) + (" OVERDUE" if r["overdue"] else "")
        holder = r.get("auditor_name") or r["auditor_id"]
        waiting = r["waiting_for"] + (f" ({holder})" if holder and r["waiting_for"].startswith("auditor") else "")
        table.add_row(r["city_name"] or "-", r["cycle"], r["stage"], waiting or "-", _age(r["stage_since"]), due,
                      r["submission_id"])
    return table


# --- commands ------------------------------------------------------------------------------


def status(args, http) -> None:
    rows = _call(http, "GET", "/api/v1/ops/status", params={"cycle": args.cycle} if args.cycle else None)
    if not rows:
        out.print("No certification has been submitted yet.")
        return
    stages = list(dict.fromkeys(r["stage"] for r in rows))
    table = Table(title="Certifications by stage and cycle", title_justify="left")
    table.add_column("cycle")
    for s in stages:
        table.add_column(s, justify="right")
    table.add_column("total", justify="right", style="bold")
    for cycle in sorted({r["cycle"] for r in rows}, reverse=True):
        counts = {r["stage"]: r["count"] for r in rows if r["cycle"] == cycle}
        table.add_row(cycle or "-", *(str(counts.get(s, 0)) for s in stages), str(sum(counts.values())))
    out.print(table)


def stuck(args, http) -> None:
    params = {"limit": args.limit, **({"older_than": args.older_than} if args.older_than else {})}
    rows = _call(http, "GET", "/api/v1/ops/waiting", params=params)
    if not rows:
        out.print(f"Nothing has waited {args.older_than or 'at all'}." if args.older_than else "Nothing is in flight.")
        return
    out.print(_certifications(f"Waiting {'at least ' + args.older_than if args.older_than else 'longest'}", rows))


def breaches(args, http) -> None:
    rows = _call(http, "GET", "/api/v1/ops/breaches")
    out.print(_certifications("Reviews past their due date", rows) if rows else "No review is past its due date.")


def appeals(args, http) -> None:
    status = "open" if args.open else "decided" if args.decided else None
    rows = _call(http, "GET", "/api/v1/ops/appeals", params={"status": status} if status else None)
    if not rows:
        out.print({"open": "No certification is in appeal.", "decided": "No appeal has been decided yet."}.get(
            status or "", "No city has appealed."))
        return
    table = Table(title="Appeals (open first, the earliest due first)", title_justify="left")
    for col in ("city", "cycle", "status", "filed", "due", "decided", "outcome", "report", "submission"):
        table.add_column(col, overflow="fold")
    for r in rows:
        due = _when(r["due_at"]) + (" OVERDUE" if r["overdue"] else "")
        outcome = (f"{r['overturned']} overturned, {r['upheld']} upheld" if r["overturned"] is not None
                   else ("waiting for " + r["waiting_for"] if r["status"] == "open" and r["waiting_for"] else "-"))
        status_text = "in appeal" if r["status"] == "open" else "decided"
        table.add_row(r["city_name"] or "-", r["cycle"] or "-", status_text, _when(r["filed_at"]), due,
                      _when(r["decided_at"]), outcome, f"version {r['report_version']}", r["submission_id"])
    out.print(table)


def failing(args, http) -> None:
    body = _call(http, "GET", "/api/v1/ops/failing")
    if not body["steps"] and not body["engine"]:
        out.print("No step is failing and no activity is retrying.")
        return
    if body["steps"]:
        table = Table(title="Steps failed on bad data (fix, then `wwc ops retry`)", title_justify="left")
        for col in ("city", "stage", "error", "submission"):
            table.add_column(col, overflow="fold")
        for r in body["steps"]:
            table.add_row(r["city_name"] or "-", r["stage"], r["failing"], r["submission_id"])
        out.print(table)
    if body["engine"]:
        table = Table(title="Workflow engine", title_justify="left")
        for col in ("problem", "detail", "attempts", "submission"):
            table.add_column(col, overflow="fold")
        for p in body["engine"]:
            table.add_row(p["kind"], p["detail"], str(p["attempts"] or "-"), p["submission_id"])
        out.print(table)


def parked(args, http) -> None:
    rows = _call(http, "GET", "/api/v1/ops/parked")
    if not rows:
        out.print("No message is parked.")
        return
    table = Table(title="Parked messages (replay with `wwc ops replay EVENT_ID`)", title_justify="left")
    for col in ("event id", "service", "subject", "consumer", "error", "parked"):
        table.add_column(col, overflow="fold")
    for p in rows:
        error = p["error"] + (f"\nlast replay {p['last_replay']}" if p["last_replay"] else "")
        table.add_row(p["event_id"] or p["notice_id"], p["service"], p["subject"], p["consumer"], error,
                      _when(p["parked_at"]))
    out.print(table)


def replay(args, http) -> None:
    answer = _call(http, "POST", f"/api/v1/ops/parked/{args.event_id}/replay")
    accepted, asked = answer["requested"], datetime.fromisoformat(answer["requested_at"])
    keys = {(p["service"], p["parked_id"]) for p in accepted}
    out.print(f"Replay requested for {len(keys)} parked message(s).")
    if args.no_wait:
        return
    deadline = time.monotonic() + args.wait
    with out.status("Waiting for the owning service to replay it...") as spinner:
        while time.monotonic() < deadline:
            still = {(p["service"], p["parked_id"]): p for p in _call(http, "GET", "/api/v1/ops/parked")}
            failed = [p for key, p in still.items() if key in keys and p["last_replay_at"]
                      and datetime.fromisoformat(p["last_replay_at"]) >= asked]
            if not any(key in still for key in keys):
                out.print("[green]Replayed:[/green] the message was processed and is no longer parked.")
                return
            if failed:
                raise OpsError(f"the replay failed again: {failed[0]['last_replay']}")
            spinner.update(f"Waiting for the owning service to replay it... ({int(deadline - time.monotonic())}s)")
            time.sleep(1)
    raise OpsError("no answer yet: is the owning service running? `wwc ops parked` shows the outcome later")


def retry(args, http) -> None:
    _call(http, "POST", f"/api/v1/ops/submissions/{args.submission_id}/retry-step")
    out.print("The failed step will run again; `wwc ops timeline` shows the outcome.")


def timeline(args, http) -> None:
    body = _call(http, "GET", f"/api/v1/ops/submissions/{args.submission_id}/timeline")
    sub = body["submission"]
    if sub:
        out.print(f"[bold]{sub['city_name'] or sub['submission_id']}[/bold], cycle {sub['cycle']}: "
                  f"{sub['stage']} for {_age(sub['stage_since'])}"
                  + (f", waiting for {sub['waiting_for']}" if sub["waiting_for"] else ""))
    table = Table(title=f"Timeline of {args.submission_id}", title_justify="left")
    table.add_column("when", no_wrap=True)
    table.add_column("what", overflow="fold")
    table.add_column("subject", overflow="fold", style="dim")
    for e in body["events"]:
        table.add_row(_when(e["at"]), e["text"], e["subject"])
    out.print(table)


def find(args, http) -> None:
    params = {k: v for k, v in (("stage", args.stage), ("cycle", args.cycle), ("city", args.city),
                                ("auditor", args.auditor)) if v}
    rows = _call(http, "GET", "/api/v1/ops/workflows", params=params)
    table = Table(title="Certifications in the workflow engine", title_justify="left")
    for col in ("workflow", "status", "stage", "cycle", "city", "auditor", "due"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["workflow_id"], r["status"], r["stage"] or "-", r["cycle"] or "-", r["city"] or "-",
                      r["auditor"] or "-", _when(r["due_at"]))
    out.print(table if rows else "No certification matches.")


def gaps(args, http) -> None:
    rows = _call(http, "GET", "/api/v1/ops/gaps")
    if not rows:
        out.print("Every workflow is at the stage the services recorded.")
        return
    table = Table(title="Workflows at another stage than the services recorded", title_justify="left")
    for col in ("submission", "workflow", "recorded", "workflow is"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["submission_id"], r["workflow_stage"], r["recorded_stage"] or "(no record)", r["workflow_is"])
    out.print(table)
    out.print("A workflow ahead of the records after a restore: see deploy/README.md, \"Workflows that moved on\".")


def rewind(args, http) -> None:
    rows = _call(http, "POST", "/api/v1/ops/rewind", json={"to": args.to})
    for r in rows:
        out.print(f"{r['submission_id']}: {r['action']}" + (f" (to event {r['to_event']})" if r["to_event"] else ""))
    out.print(f"{len(rows)} workflow(s) changed. Now run `wwc db republish SERVICE --since {args.to}` "
              "for each service, if not done yet.")


COMMANDS = {"status": status, "stuck": stuck, "breaches": breaches, "appeals": appeals, "failing": failing, "parked": parked,
            "replay": replay, "retry": retry, "timeline": timeline, "find": find,
            "gaps": gaps, "rewind": rewind}


def run(args: argparse.Namespace) -> int:
    global out, err
    out, err = Console(), Console(stderr=True)  # sized for the terminal (or COLUMNS) of this run
    try:
        with _client(args) as http:
            COMMANDS[args.ops_command](args, http)
    except OpsError as exc:
        err.print(f"[red]error:[/red] {exc}")
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def _connection_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """Where and as whom; accepted before or after the command (`wwc ops status --email …`).
    After it, they are SUPPRESSed unless given, so they never reset what came before."""
    def default(value: str) -> str:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument("--url", default=default(service_urls()["reporting"]), help="reporting's address")
    parser.add_argument("--identity-url", default=default(""), help="intake's address for signing in")
    parser.add_argument("--token", default=default(""), help="an operator's bearer token (or WWC_OPS_TOKEN)")
    parser.add_argument("--email", default=default(""), help="sign in as this operator (asks for the password)")


def register(subparsers) -> None:
    p = subparsers.add_parser("ops", help="operators: pipeline, stuck work, parked messages, timelines")
    _connection_options(p, defaults=True)
    common = argparse.ArgumentParser(add_help=False)
    _connection_options(common, defaults=False)
    sub = p.add_subparsers(dest="ops_command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, parents=[common])

    s = command("status", help="submissions per stage and cycle")
    s.add_argument("--cycle")
    s = command("stuck", help="open certifications, longest waiting first")
    s.add_argument("--older-than", help="e.g. 7d, 36h, 90m")
    s.add_argument("--limit", type=int, default=50)
    command("breaches", help="reviews past their due date")
    s = command("appeals", help="certifications in appeal (due date, status) and appeals decided")
    which = s.add_mutually_exclusive_group()
    which.add_argument("--open", action="store_true", help="only those in appeal now")
    which.add_argument("--decided", action="store_true", help="only those decided")
    command("failing", help="steps failed on bad data; activities retrying")
    command("parked", help="parked messages of every service")
    s = command("replay", help="replay a parked message and wait for the outcome")
    s.add_argument("event_id")
    s.add_argument("--wait", type=float, default=60, help="seconds to wait for the outcome")
    s.add_argument("--no-wait", action="store_true")
    s = command("retry", help="run a submission's failed step again")
    s.add_argument("submission_id")
    s = command("timeline", help="a submission's timeline")
    s.add_argument("submission_id")
    s = command("find", help="certifications by search attribute")
    for name in ("stage", "cycle", "city", "auditor"):
        s.add_argument(f"--{name}")
    command("gaps", help="workflows at another stage than the services' records (after a restore)")
    s = command("rewind", help="after a restore without Temporal: reset workflows to the restored time")
    s.add_argument("--to", required=True, help="the backup's time, ISO, UTC unless it says")
    p.set_defaults(func=run)

