#!/usr/bin/env bash
# Placeholder of AUTOMATIC1111's launcher in the cloudsim host image. On a simulated host the
# WebUI is served by cloudsim itself (see docs/cloudsim.md); the unit is driven by systemctl.
echo "Running on local URL:  http://0.0.0.0:7860"
