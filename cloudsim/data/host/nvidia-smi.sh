#!/usr/bin/env bash
# cloudsim's stand-in for the NVIDIA driver's nvidia-smi on an image that carries the driver.
if [ "${1:-}" = "--query-gpu=name,driver_version" ] || [ "${1:-}" = "-L" ]; then
  echo "GPU 0: NVIDIA (cloudsim), 550.90.07"
  exit 0
fi
echo "NVIDIA-SMI 550.90.07    Driver Version: 550.90.07    CUDA Version: 12.4"
