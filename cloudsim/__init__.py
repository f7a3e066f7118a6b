"""cloudsim: an emulator of the Alibaba Cloud ECS, VPC, OOS and CMS APIs for nestops.

Run it with ``python -m cloudsim``; reach it only through the official ``alibabacloud-*``
SDKs (and ``/_sim/`` for control). Pure standard library, no Django. See docs/cloudsim.md.
"""
