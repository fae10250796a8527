#!/usr/bin/env bash
# `make run-aws-local`: the dev server on the real services' emulators — DynamoDB Local for the
# store, moto's SES for mail — each on a free loopback port, all stopped together on Ctrl-C.
# Mail is not printed: read it from moto at http://127.0.0.1:$MOTO_PORT/moto-api/data.json.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
bash "$root/tests/install-emulators.sh"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
DYNAMO_PORT="$(free_port)"
MOTO_PORT="$(free_port)"
logs="$(mktemp -d)"
jar_dir="$tools/dynamodb-local"
java -Djava.library.path="$jar_dir/DynamoDBLocal_lib" -jar "$jar_dir/DynamoDBLocal.jar" \
    -inMemory -port "$DYNAMO_PORT" >"$logs/dynamodb.log" 2>&1 &
dynamo_pid=$!
"$tools/venv/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >"$logs/moto.log" 2>&1 &
moto_pid=$!
trap 'kill $dynamo_pid $moto_pid 2>/dev/null || true' EXIT

export AWS_ACCESS_KEY_ID=teamgate AWS_SECRET_ACCESS_KEY=teamgate AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export STORE=dynamodb DYNAMODB_ENDPOINT="http://127.0.0.1:$DYNAMO_PORT"
export MAILER=ses SES_ENDPOINT="http://127.0.0.1:$MOTO_PORT" MAIL_FROM="${MAIL_FROM:-no-reply@teamgate.localhost}"

wait_for() {
    for _ in $(seq 1 150); do
        curl -s -o /dev/null "$1" && return 0
        sleep 0.2
    done
    echo "$2 did not start; see $logs" >&2
    exit 1
}
wait_for "$DYNAMODB_ENDPOINT" "DynamoDB Local"
wait_for "$SES_ENDPOINT/moto-api/data.json" "moto"
# moto refuses unverified senders, as SES does: verify ours.
"$tools/venv/bin/python" -c 'import boto3, os; boto3.client("sesv2", endpoint_url=os.environ["SES_ENDPOINT"]).create_email_identity(EmailIdentity=os.environ["MAIL_FROM"])'

echo "DynamoDB Local: $DYNAMODB_ENDPOINT    moto (SES): $SES_ENDPOINT/moto-api/data.json"
cd "$root"
cargo run --quiet -p dev-server
