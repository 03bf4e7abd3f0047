#!/bin/sh
# The demo deploy script of `releasebot console`: the `command` backend runs it per stage.
#
#   ./demo/deploy.sh <service> <version> <environment> [<weight>]
#
# It deploys nothing: it prints what a real deploy would do, waits a little, and exits 0.
# Releasebot also passes RELEASE_ID, RELEASE_ACTION (deploy | rollback), RELEASE_STAGE,
# RELEASE_WEIGHT, RELEASE_PREVIOUS_VERSION, ... in the environment; they win over missing
# arguments. A rollback with an empty RELEASE_PREVIOUS_VERSION means nothing was released
# before: <version> is undone (taken out of traffic, weight 0), nothing else is deployed.
#
# Make it fail, to watch a rollback:
#   - a version containing "bad" (e.g. /release plan checkout 1.4.3-bad to staging), or
#   - a file demo/state/fail-deploy (touch demo/state/fail-deploy; rm it to recover).
# DEMO_DEPLOY_SECONDS (default 2) sets how long each step "takes".
set -eu

service=${1:-${RELEASE_SERVICE:-}}
version=${2:-${RELEASE_VERSION:-}}
environment=${3:-${RELEASE_ENVIRONMENT:-}}
weight=${4:-${RELEASE_WEIGHT:-}}
action=${RELEASE_ACTION:-deploy}
release=${RELEASE_ID:-a release}
stage=${RELEASE_STAGE:-deploy}
state_dir=${DEMO_STATE_DIR:-$(dirname "$0")/state}
pause=${DEMO_DEPLOY_SECONDS:-2}

if [ -z "$service" ] || [ -z "$version" ] || [ -z "$environment" ]; then
  echo "usage: $0 <service> <version> <environment> [<weight>]" >&2
  exit 64
fi

if [ -e "$state_dir/fail-deploy" ]; then
  echo "error: $state_dir/fail-deploy exists, so this deploy fails (remove it to recover)" >&2
  exit 1
fi

# Set but empty (not merely unset, as when run by hand): there is no earlier release.
if [ "$action" = rollback ] && [ -n "${RELEASE_PREVIOUS_VERSION+set}" ] \
  && [ -z "$RELEASE_PREVIOUS_VERSION" ]; then
  echo "[$release] undoing $service $version in $environment: nothing was released before," \
    "so it is taken out of traffic and nothing else is deployed (stage: $stage)"
  sleep "$pause"
  echo "$service $version is undone in $environment: it serves 0% of traffic"
  exit 0
fi

traffic=${weight:+ at ${weight}% of traffic}
echo "[$release] $action $service $version to $environment$traffic (stage: $stage)"
echo "pulling image $service:$version"
case "$version" in
  *bad*)
    echo "error: $service $version crashed on start (the demo fails versions containing 'bad')" >&2
    exit 1
    ;;
esac

sleep "$pause"
echo "$service $version is serving in $environment$traffic"
