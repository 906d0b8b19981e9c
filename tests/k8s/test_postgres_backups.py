"""PostgreSQL's backups as the manifests configure them (ADR 0038), beyond the policy checks:

- every option of the rendered pgbackrest.conf is one that pgBackRest knows (the installed one,
  Debian's 2.45 here and in CI: it warns about an option it does not know and goes on, so a typo
  in the ConfigMap would silently lose a setting such as the retention); skipped without it;
- the sidecar's schedule (backup-schedule.sh of the ConfigMap `pgbackrest`), run by bash against
  stand-ins for pgbackrest, pg_isready and sleep that log what they are asked: the stanza made and
  checked, a full backup at once on an empty repository (retried until one succeeds), then a
  full one on FULL_BACKUP_WEEKDAY and a differential one on the other days, a clean exit on
  SIGTERM, and a refusal of a malformed schedule.
Each is also shown to fail on a broken input.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import policies


@pytest.fixture(scope="module")
def config_map(renders) -> dict:
    return policies.named(renders[("split",)], "ConfigMap", "pgbackrest")["data"]


# --- the options ------------------------------------------------------------------------------

def unknown_options(conf_text: str, tmp: Path) -> list[str]:
    """pgBackRest's warnings about options of the file that it does not know ('invalid option',
    an option in the wrong section), from `info` on an empty repository in tmp."""
    conf = tmp / "pgbackrest.conf"
    conf.write_text(conf_text)
    (tmp / "repo").mkdir(exist_ok=True)
    result = subprocess.run(
        ["pgbackrest", f"--config={conf}", "--stanza=deliveryhub", f"--repo1-path={tmp / 'repo'}",
         f"--lock-path={tmp}", "--log-level-file=off", "info"],
        capture_output=True, text=True, timeout=60)
    return [line for line in (result.stdout + result.stderr).splitlines() if "configuration file contains" in line]


needs_pgbackrest = pytest.mark.skipif(shutil.which("pgbackrest") is None, reason="pgbackrest is not installed")


@needs_pgbackrest
def test_pgbackrest_knows_every_option_of_the_config_map(config_map, tmp_path):
    assert unknown_options(config_map["pgbackrest.conf"], tmp_path) == []


@needs_pgbackrest
def test_the_option_check_catches_a_typo(config_map, tmp_path):
    text = config_map["pgbackrest.conf"].replace("repo1-retention-full=", "repo1-retention-ful=")
    assert any("repo1-retention-ful" in w for w in unknown_options(text, tmp_path))


# --- the schedule -----------------------------------------------------------------------------

STAND_INS = {
    # Logs its arguments; refuses a command without the stanza as pgBackRest does (the
    # configuration names none in [global]); `info` answers as pgBackRest's JSON does, with or
    # without a backup; `backup` fails as many times as the file `backup-failures` says, then
    # records a backup; `stanza-create` likewise with `stanza-failures`.
    "pgbackrest": """
        echo "pgbackrest $*" >> "$STATE/log"
        [[ " $* " == *" --stanza=$STANZA "* ]] || { echo "ERROR: [031]: option 'stanza' is required" >&2; exit 31; }
        fail() { local f=$STATE/$1; [[ -s $f && $(cat "$f") -gt 0 ]] || return 1; echo $(( $(cat "$f") - 1 )) > "$f"; }
        case " $* " in
          *" info "*) if [[ -e $STATE/has-backup ]]; then echo '[{"backup":[{"label":"20261205-010000F"}],"name":"deliveryhub"}]'
                      else echo '[{"archive":[],"backup":[],"name":"deliveryhub"}]'; fi ;;
          *" backup "*) fail backup-failures && exit 1; touch "$STATE/has-backup" ;;
          *" stanza-create "*) fail stanza-failures && exit 1 ;;
        esac
        exit 0
    """,
    "pg_isready": 'echo "pg_isready $*" >> "$STATE/log"',
    # Logs the pause; the script's parent (bash) gets SIGTERM at the MAX_SLEEPS-th one.
    "sleep": """
        echo "sleep $1" >> "$STATE/log"
        n=$(grep -c '^sleep ' "$STATE/log")
        (( n >= MAX_SLEEPS )) && kill -TERM "$PPID"
        exit 0
    """,
}


STANZA = "deliveryhub"  # the archive_command's (policies.archive_stanza checks the ConfigMap has it)


def run_schedule(script: str, tmp: Path, env: dict[str, str], has_backup=False,
                 backup_failures=0, stanza_failures=0) -> tuple[subprocess.CompletedProcess, list[str]]:
    bin_dir, state = tmp / "bin", tmp / "state"
    bin_dir.mkdir()
    state.mkdir()
    for name, body in STAND_INS.items():
        (bin_dir / name).write_text("#!/bin/bash\n" + textwrap.dedent(body))
        (bin_dir / name).chmod(0o755)
    (state / "log").touch()
    (state / "backup-failures").write_text(str(backup_failures))
    (state / "stanza-failures").write_text(str(stanza_failures))
    if has_backup:
        (state / "has-backup").touch()
    (tmp / "backup-schedule.sh").write_text(script)
    result = subprocess.run(
        ["bash", str(tmp / "backup-schedule.sh")], capture_output=True, text=True, timeout=60,
        env={"PATH": f"{bin_dir}:{os.environ['PATH']}", "STATE": str(state), "TMPDIR": str(tmp), "STANZA": STANZA,
             "MAX_SLEEPS": "2", **env})
    return result, (state / "log").read_text().splitlines()


def today() -> int:
    return datetime.now(timezone.utc).isoweekday()


def other_day() -> int:
    return today() % 7 + 1


def scheduled_pause(line: str) -> int:
    assert line.startswith("sleep "), line
    return int(line.split()[1])


def test_the_stand_in_wants_the_archive_commands_stanza(renders):
    _, server = policies.postgres_server(renders[("split",)])
    assert policies.archive_stanza(server) == STANZA


def test_an_empty_repository_gets_a_full_backup_at_once_then_the_weekday_a_full_one(config_map, tmp_path):
    result, log = run_schedule(config_map["backup-schedule.sh"], tmp_path,
                               {"BACKUP_AT": "01:00", "FULL_BACKUP_WEEKDAY": str(today())})
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "backup-schedule.started").exists()  # what the probes look for
    assert log[0] == "pg_isready -q -h 127.0.0.1 -p 5432"
    assert log[1:5] == [
        "pgbackrest --stanza=deliveryhub --log-level-console=info stanza-create",
        "pgbackrest --stanza=deliveryhub --log-level-console=info check",
        "pgbackrest --stanza=deliveryhub --output=json info",
        "pgbackrest --stanza=deliveryhub --log-level-console=info --type=full backup"]
    assert log[5] == "pgbackrest --stanza=deliveryhub --output=json info"
    assert 0 < scheduled_pause(log[6]) <= 24 * 3600
    assert log[7] == "pgbackrest --stanza=deliveryhub --log-level-console=info --type=full backup"
    assert scheduled_pause(log[8]) > 0 and len(log) == 9
    assert "the repository holds no backup: a full one now" in result.stdout
    assert "stopping" in result.stdout


def test_the_other_days_get_a_differential_backup(config_map, tmp_path):
    result, log = run_schedule(config_map["backup-schedule.sh"], tmp_path,
                               {"BACKUP_AT": "23:59", "FULL_BACKUP_WEEKDAY": str(other_day())}, has_backup=True)
    assert result.returncode == 0, result.stdout + result.stderr
    backups = [line for line in log if line.endswith(" backup")]
    assert backups == ["pgbackrest --stanza=deliveryhub --log-level-console=info --type=diff backup"]  # none at once: one exists


def test_failures_are_retried_and_logged(config_map, tmp_path):
    in_two_hours = (datetime.now(timezone.utc) + timedelta(hours=2)).strftime("%H:%M")
    result, log = run_schedule(config_map["backup-schedule.sh"], tmp_path,
                               {"BACKUP_AT": in_two_hours, "FULL_BACKUP_WEEKDAY": str(other_day()),
                                "RETRY_SECONDS": "7", "MAX_SLEEPS": "4"},
                               stanza_failures=1, backup_failures=2)
    assert result.returncode == 0, result.stdout + result.stderr
    assert log.count("pgbackrest --stanza=deliveryhub --log-level-console=info stanza-create") == 2
    # After the failed stanza-create and after each of the two failed full backups, RETRY_SECONDS;
    # the third full backup succeeds, and the fourth pause waits for the schedule.
    assert [line for line in log if line.startswith("sleep ")][:3] == ["sleep 7"] * 3
    assert log.count("pgbackrest --stanza=deliveryhub --log-level-console=info --type=full backup") == 3
    assert 7000 < scheduled_pause(log[-1]) <= 7200 and log[-2] == "pgbackrest --stanza=deliveryhub --output=json info"
    assert "stanza-create failed; again in 7 s" in result.stdout
    assert result.stdout.count("full backup failed") == 2


@pytest.mark.parametrize("env, message", [
    ({"BACKUP_AT": "1:00", "FULL_BACKUP_WEEKDAY": "7"}, "BACKUP_AT=1:00 is not HH:MM"),
    ({"BACKUP_AT": "24:00", "FULL_BACKUP_WEEKDAY": "7"}, "BACKUP_AT=24:00 is not HH:MM"),
    ({"BACKUP_AT": "01:00", "FULL_BACKUP_WEEKDAY": "0"}, "FULL_BACKUP_WEEKDAY=0 is not 1-7"),
    ({"BACKUP_AT": "01:00"}, "FULL_BACKUP_WEEKDAY"),
])
def test_a_malformed_schedule_is_refused(config_map, tmp_path, env, message):
    result, log = run_schedule(config_map["backup-schedule.sh"], tmp_path, env)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert not any(line.startswith("pgbackrest") for line in log)


def test_the_schedule_test_fails_on_a_script_that_only_ever_backs_up_differentially(config_map, tmp_path):
    broken = config_map["backup-schedule.sh"].replace("then backup full; else backup diff; fi",
                                                      "then backup diff; else backup diff; fi")
    assert broken != config_map["backup-schedule.sh"]
    result, log = run_schedule(broken, tmp_path, {"BACKUP_AT": "01:00", "FULL_BACKUP_WEEKDAY": str(today())},
                               has_backup=True)
    assert "pgbackrest --stanza=deliveryhub --log-level-console=info --type=full backup" not in log
