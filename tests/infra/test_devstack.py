"""devtools.devstack starts real servers on free ports that work, keep state across a
restart where they have state, fail loudly with their log, and never outlive a test."""

from __future__ import annotations

import io
import os
import signal
import smtplib
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import httpx
import nats
import pytest
from minio import Minio
from minio.error import S3Error
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from devtools import devstack

REPO = Path(__file__).resolve().parents[2]
KEY, SECRET = "devstack-test", "devstack-test-secret"


def assert_gone(svc: devstack.Service) -> None:
    assert not svc.running
    with pytest.raises(ProcessLookupError):
        os.killpg(svc.pid, 0)  # nothing left in the child's process group


def test_free_ports_are_distinct_and_free():
    ports = [devstack.free_port() for _ in range(20)]
    assert len(set(ports)) == 20
    assert all(devstack.port_is_free(p) for p in ports)


def test_binaries_come_from_the_virtualenv():
    for path in (devstack.nats_binary(), devstack.temporal_binary(), devstack.weed_binary()):
        assert path.is_file() and os.access(path, os.X_OK)
        assert path.parent == Path(sys.executable).parent


# ------------------------------------------------------------------------------- NATS


async def test_nats_jetstream_works_and_keeps_streams_across_restart(tmp_path):
    port = devstack.free_port()
    with devstack.start_nats(port, tmp_path / "nats") as svc:
        assert svc.url == f"nats://127.0.0.1:{port}"
        nc = await nats.connect(svc.url)
        js = nc.jetstream()
        await js.add_stream(name="DEVSTACK", subjects=["devstack.>"])
        ack = await js.publish("devstack.hello", b"hi")
        assert ack.seq == 1
        sub = await js.pull_subscribe("devstack.>", durable="probe")
        [msg] = await sub.fetch(1, timeout=5)
        assert msg.data == b"hi"
        await msg.ack_sync()
        await nc.close()
    assert_gone(svc)
    assert (tmp_path / "nats" / "nats.log").exists()

    with devstack.start_nats(port, tmp_path / "nats") as svc:
        nc = await nats.connect(svc.url)
        js = nc.jetstream()
        info = await js.stream_info("DEVSTACK")
        assert info.state.messages == 1
        consumer = await js.consumer_info("DEVSTACK", "probe")
        assert consumer.ack_floor.stream_seq == 1
        await nc.close()
    assert_gone(svc)


def test_port_in_use_is_refused_before_starting(tmp_path):
    port = devstack.free_port()
    with (
        devstack.start_nats(port, tmp_path / "a"),
        pytest.raises(devstack.DevstackError, match="already in use"),
    ):
        devstack.start_nats(port, tmp_path / "b")


def test_a_server_that_exits_raises_with_its_log_tail():
    with pytest.raises(devstack.DevstackError) as err:
        devstack.start_temporal(devstack.free_port(), None, extra_args=["--no-such-flag"])
    text = str(err.value)
    assert "exited with code" in text
    assert "no-such-flag" in text  # from the CLI's own error output, via the log tail


# --------------------------------------------------------------------------- Temporal


@activity.defn
async def greet(name: str) -> str:
    return f"hello {name}"


@workflow.defn
class GreetWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(
            greet, name, start_to_close_timeout=timedelta(seconds=10)
        )


async def run_greeting(address: str, workflow_id: str) -> str:
    client = await Client.connect(address)
    task_queue = f"devstack-{uuid.uuid4().hex}"
    async with Worker(client, task_queue=task_queue, workflows=[GreetWorkflow],
                      activities=[greet], workflow_runner=UnsandboxedWorkflowRunner()):
        return await client.execute_workflow(GreetWorkflow.run, "devstack", id=workflow_id,
                                             task_queue=task_queue)


async def test_temporal_in_memory_runs_a_workflow():
    with devstack.start_temporal(devstack.free_port(), None) as svc:
        assert "ui" not in svc.urls  # headless
        assert await run_greeting(svc.address, f"wf-{uuid.uuid4().hex}") == "hello devstack"
    assert_gone(svc)


async def test_temporal_file_backed_keeps_history_across_restart(tmp_path):
    port, ui_port = devstack.free_port(), devstack.free_port()
    db = tmp_path / "temporal.db"
    with devstack.start_temporal(port, ui_port, db) as svc:
        assert await run_greeting(svc.address, "wf-persisted") == "hello devstack"
        async with httpx.AsyncClient(timeout=10) as http:
            assert (await http.get(svc.urls["ui"])).status_code == 200
    assert_gone(svc)
    assert db.exists() and (tmp_path / "temporal.log").exists()

    with devstack.start_temporal(port, ui_port, db) as svc:
        client = await Client.connect(svc.address)
        assert await client.get_workflow_handle("wf-persisted").result() == "hello devstack"
    assert_gone(svc)


# --------------------------------------------------------------------------------- S3


def s3_client(svc: devstack.Service, access_key: str | None = KEY,
              secret_key: str | None = SECRET) -> Minio:
    return Minio(svc.endpoint, access_key=access_key, secret_key=secret_key, secure=False,
                 region="us-east-1")


def test_s3_stores_objects_requires_credentials_and_keeps_data_across_restart(tmp_path):
    port = devstack.free_port()
    with devstack.start_s3(port, tmp_path / "s3", access_key=KEY, secret_key=SECRET) as svc:
        s3 = s3_client(svc)
        s3.make_bucket("devstack-evidence")
        started = time.monotonic()
        s3.put_object("devstack-evidence", "city/1/report.txt", io.BytesIO(b"evidence"), 8)
        assert time.monotonic() - started < 5  # the bucket's first volume is grown on demand
        assert s3.get_object("devstack-evidence", "city/1/report.txt").read() == b"evidence"

        for access_key, secret_key, code in [
            (KEY, "wrong-secret", "SignatureDoesNotMatch"),
            ("unknown-key", SECRET, "InvalidAccessKeyId"),
            (None, None, "AccessDenied"),  # anonymous
        ]:
            with pytest.raises(S3Error) as err:
                s3_client(svc, access_key, secret_key).list_buckets()
            assert err.value.code == code
        internal = {f"{k}_port": svc.ports[k] for k in ("master", "volume", "filer", "admin")}
    assert_gone(svc)

    with devstack.start_s3(port, tmp_path / "s3", access_key=KEY, secret_key=SECRET,
                           **internal) as svc:
        s3 = s3_client(svc)
        assert [b.name for b in s3.list_buckets()] == ["devstack-evidence"]
        assert s3.get_object("devstack-evidence", "city/1/report.txt").read() == b"evidence"
    assert_gone(svc)


# ------------------------------------------------------------------------------- SMTP


def test_smtp_sink_stores_each_message_as_an_eml_file(tmp_path):
    mail_dir = tmp_path / "mail"
    with devstack.start_smtp(devstack.free_port(), mail_dir) as svc:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "wwc@example.org", "city@example.org", "Hi"
        msg.set_content("Your certification is ready.")
        msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf",
                           filename="report.pdf")
        with smtplib.SMTP("127.0.0.1", svc.port, timeout=5) as smtp:
            smtp.send_message(msg)
    assert_gone(svc)

    [stored] = devstack.read_mail(mail_dir)
    assert stored["Subject"] == "Hi"
    assert stored["X-Envelope-To"] == "city@example.org"
    assert "certification is ready" in stored.get_body(("plain",)).get_content()
    [pdf] = list(stored.iter_attachments())
    assert pdf.get_filename() == "report.pdf" and pdf.get_content() == b"%PDF-1.4"
    assert len(list(mail_dir.glob("*.eml"))) == 1


# -------------------------------------------------------------------------------- CLI


def test_env_config_defaults_and_overrides():
    cfg = devstack.DevConfig.from_env({})
    assert (cfg.nats_port, cfg.temporal_port, cfg.temporal_ui_port, cfg.s3_port,
            cfg.smtp_port) == (4322, 7233, 8233, 8333, 8025)
    assert cfg.var_dir == Path("var") and cfg.s3_access_key == "wwc-dev"
    cfg = devstack.DevConfig.from_env({
        "WWC_NATS_PORT": "5000", "WWC_TEMPORAL_ADDRESS": "127.0.0.1:7300",
        "WWC_S3_ENDPOINT": "127.0.0.1:9000", "WWC_VAR_DIR": "/tmp/x",
        "WWC_S3_SECRET_KEY": "s3cret",
    })
    assert (cfg.nats_port, cfg.temporal_port, cfg.s3_port) == (5000, 7300, 9000)
    assert cfg.var_dir == Path("/tmp/x") and cfg.s3_secret_key == "s3cret"


def test_cli_runs_a_server_in_the_foreground_and_forwards_sigterm(tmp_path):
    port = devstack.free_port()
    env = {**os.environ, "WWC_SMTP_PORT": str(port), "WWC_VAR_DIR": str(tmp_path / "var")}
    proc = subprocess.Popen([sys.executable, "-m", "devtools.devstack", "smtp"], cwd=REPO,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        line = proc.stdout.readline()
        assert "smtp ready" in line, line
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
            smtp.sendmail("a@example.org", ["b@example.org"], b"Subject: cli\r\n\r\nhello\r\n")
        proc.send_signal(signal.SIGTERM)  # to the CLI only: it must pass it on
        assert proc.wait(timeout=15) == 0
        assert "stopped" in proc.stdout.read()
        assert devstack.port_is_free(port)  # the sink is gone too
        assert [m["Subject"] for m in devstack.read_mail(tmp_path / "var" / "mail")] == ["cli"]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
