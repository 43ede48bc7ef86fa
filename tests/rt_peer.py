"""A real Request Tracker 5 for the tests, through the project's `scripts/rt5`.

The connector works as `root` (its token); a department agent `dept` (basic auth) does
what people do in RT, so the echo guard can tell the two apart.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx

PEER = Path(__file__).resolve().parents[1] / "scripts" / "rt5"
LIB = "/usr/share/request-tracker5/lib"
DEPT = ("dept", "dept-password-1")


def installed() -> bool:
    dpkg = shutil.which("dpkg")
    if dpkg is None:
        return False
    found = subprocess.run([dpkg, "-s", "request-tracker5"], capture_output=True, check=False)
    return found.returncode == 0


def rt5(*args: str) -> str:
    done = subprocess.run(
        [str(PEER), *args], capture_output=True, text=True, check=True, timeout=300
    )
    return done.stdout.strip()


def department_agent(name: str, password: str) -> None:
    """Create (or reset) a privileged RT user who may do anything, with this password."""
    script = (
        "use RT; RT::LoadConfig(); RT::Init();"
        "my $u = RT::User->new(RT->SystemUser); $u->Load($ARGV[0]);"
        "$u->Create(Name => $ARGV[0], Privileged => 1, EmailAddress => "
        '"$ARGV[0]\\@caseflow.test") unless $u->Id;'
        "my ($set, $why) = $u->SetPassword($ARGV[1]);"
        'die "password: $why\\n" unless $set;'
        "$u->PrincipalObj->GrantRight("
        'Right => "SuperUser", Object => $RT::System);'
    )
    subprocess.run(
        ["perl", f"-I{LIB}", "-e", script, name, password], check=True, capture_output=True
    )


@dataclass
class Rt:
    port: int
    token: str

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/REST/2.0"

    def dept(self) -> httpx.Client:
        """What a person in the adjacent department does, as themselves."""
        return httpx.Client(base_url=self.base, auth=DEPT, timeout=30)

    def root(self) -> httpx.Client:
        headers = {"Authorization": f"token {self.token}"}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30)


STATE = Path(os.environ.get("RT5_STATE", "/tmp/caseflow-rt5"))


def token(port: int) -> str:
    """root's REST2 token, made once per RT and kept: RT checks a token against every token
    its owner has, so a new token per run would make each call slower than the last."""
    kept = STATE / "caseflow-tests.token"
    if kept.exists():
        candidate = kept.read_text().strip()
        answer = httpx.get(
            f"http://127.0.0.1:{port}/REST/2.0/queues/all",
            headers={"Authorization": f"token {candidate}"},
            timeout=60,
        )
        if answer.status_code == 200:
            return candidate
    made = rt5("token")
    kept.write_text(made)
    return made


def start(port: int) -> Rt:
    rt5("start", str(port))
    rt = Rt(port=port, token=token(port))
    department_agent(*DEPT)
    return rt


def stop() -> None:
    rt5("stop")
