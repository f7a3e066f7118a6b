# Builds the nestops WebUI image with Packer's alicloud-ecs builder and the very bootstrap script
# nestops runs through OOS (images/scripts/bootstrap.sh). See docs/images.md.
#
#   export ALICLOUD_ACCESS_KEY=... ALICLOUD_SECRET_KEY=...
#   packer init deploy/packer && packer build -var region=cn-hangzhou \
#     -var base_image=<an Ubuntu 22.04 GPU or AI image id of the region> deploy/packer
#
# Then name the image in NESTOPS_IMAGES ({"sd-webui": {"cn-hangzhou": "m-..."}}).

packer {
  required_plugins {
    alicloud = {
      source  = "github.com/hashicorp/alicloud"
      version = ">= 1.1.0"
    }
  }
}

variable "region" {
  type    = string
  default = "cn-hangzhou"
}

variable "base_image" {
  type        = string
  description = "An Ubuntu 22.04 image with the NVIDIA driver, or Alibaba's AI image (driver, CUDA, PyTorch)."
}

variable "instance_type" {
  type    = string
  default = "ecs.gn6i-c4g1.xlarge"
}

variable "template" {
  type        = string
  default     = "sd-webui"
  description = "sd-webui (AUTOMATIC1111) or sd-webui-forge."
}

variable "webui_ref" {
  type        = string
  default     = "v1.10.1"
  description = "The WebUI's pinned tag or commit (for Forge, a commit)."
}

variable "pip_index_url" {
  type    = string
  default = "https://mirrors.aliyun.com/pypi/simple/"
}

variable "github_mirror" {
  type        = string
  default     = ""
  description = "A prefix put before https://github.com/ addresses (a mainland-China mirror)."
}

variable "copy_regions" {
  type    = list(string)
  default = []
}

locals {
  webui_repo = var.template == "sd-webui-forge" ? "https://github.com/lllyasviel/stable-diffusion-webui-forge.git" : "https://github.com/AUTOMATIC1111/stable-diffusion-webui.git"
  stamp      = formatdate("YYYYMMDD-hhmm", timestamp())
}

source "alicloud-ecs" "webui" {
  region               = var.region
  image_name           = "nestops-${var.template}-${var.webui_ref}-${local.stamp}"
  image_description    = "Stable Diffusion WebUI for nestops (host contract of docs/cloudsim.md)"
  source_image         = var.base_image
  instance_type        = var.instance_type
  ssh_username         = "root"
  internet_charge_type = "PayByTraffic"
  internet_max_bandwidth_out = 100
  system_disk_mapping {
    disk_category = "cloud_essd"
    disk_size     = 100
  }
  image_copy_regions = var.copy_regions
  tags = {
    "nestops:image" = var.template
  }
}

build {
  sources = ["source.alicloud-ecs.webui"]

  provisioner "shell" {
    environment_vars = [
      "NESTOPS_ARG_WEBUI_REPO=${local.webui_repo}",
      "NESTOPS_ARG_WEBUI_REF=${var.webui_ref}",
      "NESTOPS_ARG_LOCALIZATION_REPO=https://github.com/dtlnor/stable-diffusion-webui-localization-zh_CN.git",
      "NESTOPS_ARG_GITHUB_MIRROR=${var.github_mirror}",
      "NESTOPS_ARG_PIP_INDEX_URL=${var.pip_index_url}",
      "NESTOPS_ARG_PORT=7860",
      "NESTOPS_ARG_WAIT_SECONDS=1800",
    ]
    script = "${path.root}/../../images/scripts/bootstrap.sh"
  }
}
