# shellcheck shell=bash
# Set-up shared by scripts/check and scripts/check-lowest: sourced, not run.

# uv, installed with pip when missing (a fresh machine has only Python and pip).
ensure_uv() {
    if ! command -v uv >/dev/null 2>&1; then
        python3 -m pip install --quiet --disable-pip-version-check uv
    fi
}

# Unless TRT_TEST_POSTGRES_URL already names a database: when a server answers on
# 127.0.0.1:5432, a throw-away database for this run, dropped however the run ends.
use_test_postgres() {
    if [[ -z "${TRT_TEST_POSTGRES_URL:-}" ]] && command -v psql >/dev/null 2>&1 \
        && psql -h 127.0.0.1 -U postgres -Atqc 'select 1' postgres >/dev/null 2>&1; then
        local test_db="trt_test_$$"
        psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $test_db" postgres
        # shellcheck disable=SC2064  # the name is fixed now; the trap runs after we return
        trap "psql -h 127.0.0.1 -U postgres -qc 'DROP DATABASE IF EXISTS $test_db WITH (FORCE)' postgres" EXIT
        export TRT_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:5432/$test_db"
    fi
}
