#!/usr/bin/env bash
# cloudsim: scripts already run as the host's root; sudo only drops its own options.
while [ $# -gt 0 ]; do
  case "$1" in
    -u|-g|-C|-h|-p) shift 2 ;;
    --) shift; break ;;
    -*) shift ;;
    *) break ;;
  esac
done
exec "$@"
