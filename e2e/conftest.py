"""Fixtures that run a real `ingot serve` process and point boto3 and the AWS CLI at it.

The backend follows INGOT_TEST_BACKEND: `sqlite` (a temporary data dir) or `postgres`
(a fresh schema in INGOT_TEST_DATABASE_URL, dropped afterwards). Servers never outlive a test
module; `kill9()` and `restart()` exercise durability.
"""

import configparser
import json
import os
import pathlib
import secrets
import shutil
import signal
import subprocess
import tempfile

import boto3
import botocore.config
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
BINARY = ROOT / "target" / "debug" / "ingot"
AWS_CLI = ROOT / ".venv" / "bin" / "aws"
BACKEND = os.environ.get("INGOT_TEST_BACKEND", "sqlite")
DATABASE_URL = os.environ.get("INGOT_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")


class Server:
    def __init__(self, extra_args=()):
        self.data_dir = tempfile.mkdtemp(prefix="ingot-e2e-")
        self.schema = f"ingot_e2e_{secrets.token_hex(6)}" if BACKEND == "postgres" else None
        self.extra_args = list(extra_args)
        self.process = None
        self.endpoint = None
        self.start()

    def args(self):
        args = [str(BINARY), "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data_dir, *self.extra_args]
        if self.schema:
            args += ["--database-url", DATABASE_URL, "--database-schema", self.schema]
        return args

    def start(self):
        env = dict(os.environ, INGOT_LOG=os.environ.get("INGOT_LOG", "warn"))
        self.process = subprocess.Popen(self.args(), stdout=subprocess.PIPE, text=True, env=env)
        line = self.process.stdout.readline().strip()
        if not line.startswith("READY "):
            self.process.kill()
            raise RuntimeError(f"ingot did not start: {line!r}")
        self.endpoint = line.split(" ", 1)[1]
        creds = configparser.ConfigParser()
        creds.read(self.credentials_file)
        self.access_key_id = creds["default"]["aws_access_key_id"]
        self.secret_access_key = creds["default"]["aws_secret_access_key"]
        # The comment line names the management account.
        self.account = pathlib.Path(self.credentials_file).read_text().split("account ", 1)[1].split(":", 1)[0]

    @property
    def credentials_file(self):
        return os.path.join(self.data_dir, "credentials")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill9(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def restart(self):
        self.stop()
        self.start()

    def close(self):
        self.stop()
        if self.schema:
            subprocess.run(["psql", DATABASE_URL, "-qc", f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'],
                           check=False, capture_output=True)
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def client(self, service, region="us-east-1", access_key_id=None, secret_access_key=None):
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id=access_key_id or self.access_key_id,
            aws_secret_access_key=secret_access_key or self.secret_access_key,
            config=botocore.config.Config(retries={"max_attempts": 1}),
        )

    def admin(self, method, path):
        """Calls an admin endpoint (`/_ingot/reset`, `/_ingot/clock?advance=N`) signed with SigV4 for the
        signing name `ingot` as the management account's root, the way `curl --aws-sigv4` would."""
        import urllib.request

        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        request = AWSRequest(method=method, url=self.endpoint + path, data=b"")
        SigV4Auth(Credentials(self.access_key_id, self.secret_access_key), "ingot", "us-east-1").add_auth(request)
        req = urllib.request.Request(self.endpoint + path, method=method, data=b"", headers=dict(request.headers))
        with urllib.request.urlopen(req) as resp:
            return resp.status, json.loads(resp.read())

    def cli(self, *args, region="us-east-1", check=True):
        env = dict(
            os.environ,
            AWS_SHARED_CREDENTIALS_FILE=self.credentials_file,
            AWS_CONFIG_FILE=os.devnull,
            AWS_DEFAULT_REGION=region,
            AWS_MAX_ATTEMPTS="1",
            AWS_PAGER="",
        )
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
            env.pop(k, None)
        result = subprocess.run(
            [str(AWS_CLI), "--endpoint-url", self.endpoint, "--output", "json", *args],
            capture_output=True, text=True, env=env, timeout=120,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result


@pytest.fixture(scope="module")
def ingot():
    server = Server(["--enable-reset"])
    yield server
    server.close()


@pytest.fixture
def fresh_ingot():
    """A server of the test's own, for tests that stop or kill it."""
    server = Server()
    yield server
    server.close()


@pytest.fixture
def unique():
    return secrets.token_hex(4)
