#!/usr/bin/env bash
# The whole test suite from nothing: host packages, services, tox, then
# pep8, unit, host and functional tests. Ends with one line "N passed, N failed,
# N skipped" for the whole run, and exits non-zero when anything failed.
set -uo pipefail

cd "$(dirname "$0")/.."
top=$(pwd)
log_dir="$top/.tox/logs"
mkdir -p "$log_dir"

bash tools/install-packages.sh || exit 1
bash tools/start-services.sh || exit 1
# The deployed agent (its user and /opt/computeagent) from this checkout:
# tests/functional/test_deployment.py runs it as the systemd unit would.
bash tools/install-agent.sh venv || exit 1

# tox itself lives in a small bootstrap virtualenv of the project's own,
# which tools/tox makes on first use; --version makes it here, so that a
# failure to install tox stops the run before any test env.
tools/tox --version >/dev/null || exit 1

envs=${COMPUTEAGENT_TOX_ENVS:-pep8,unit,host,functional}
status=0
IFS=, read -ra env_list <<<"$envs"
for env in "${env_list[@]}"; do
    echo "===== tox -e $env ====="
    tools/tox -e "$env" 2>&1 | tee "$log_dir/$env.log"
    rc=${PIPESTATUS[0]}
    echo "$rc" >"$log_dir/$env.rc"
    [ "$rc" = 0 ] || status=1
done

python3 tools/totals.py "$log_dir" "${env_list[@]}"
exit $status
