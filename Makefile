# moor — build, test, benchmark and run. Every target installs what it needs.
SHELL := /bin/bash
.DEFAULT_GOAL := build

# Debian packages the build, the tests and the benchmarks need.
APT_PACKAGES := build-essential pkg-config libseccomp-dev libcap-dev libjson-c-dev zlib1g-dev \
                liblzma-dev libzstd-dev zstd xz-utils \
                busybox-static iproute2 procps runc conmon docker.io python3 python3-pip jq curl
# Python packages the integration tests and benchmarks use (real clients).
PIP_PACKAGES := docker pytest
BUILD_DIR := $(CURDIR)/build
BIN_DIR := $(BUILD_DIR)/bin
SHIM_BIN := $(BIN_DIR)/moor-shim
IMAGES_DIR := $(BUILD_DIR)/images
SHIM_SOURCES := $(wildcard CShim/core/*.c) CShim/main/moor-shim.c
SHIM_HEADERS := $(wildcard CShim/core/*.h) $(wildcard CShim/core/include/*.h) $(wildcard CShim/protocol/include/*.h)
# Lean static link: the shim must stay under 1 MiB RSS per container.
SHIM_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Os -g0 -Wall -Wextra -Werror=implicit-function-declaration -Wno-format-truncation \
               -ffunction-sections -fdata-sections -ICShim/core/include -ICShim/protocol/include
SHIM_LDFLAGS := -static -Wl,--gc-sections -s
SHIM_LIBS := -lseccomp -lcap -ljson-c
SWIFT_CONFIG ?= debug

.PHONY: deps build shim daemon images test unit-test integration-test bench run install clean

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi
	@python3 -c 'import docker, pytest' 2>/dev/null || python3 -m pip install --quiet $(PIP_PACKAGES)

$(SHIM_BIN): $(SHIM_SOURCES) $(SHIM_HEADERS)
	@mkdir -p $(dir $@)
	cc $(SHIM_CFLAGS) -o $@ $(SHIM_SOURCES) $(SHIM_LDFLAGS) $(SHIM_LIBS)

shim: deps $(SHIM_BIN)

# moord and moor, copied beside the shim (moord looks for moor-shim beside itself).
daemon: deps
	swift build -c $(SWIFT_CONFIG) --product moord
	swift build -c $(SWIFT_CONFIG) --product moor
	@mkdir -p $(BIN_DIR)
	install -m 0755 .build/$(SWIFT_CONFIG)/moord .build/$(SWIFT_CONFIG)/moor $(BIN_DIR)/

build: shim daemon

images: deps
	@scripts/build-test-images.sh $(IMAGES_DIR)

unit-test: deps $(SHIM_BIN) images
	swift build --build-tests
	MOOR_SHIM=$(SHIM_BIN) MOOR_TEST_IMAGES=$(IMAGES_DIR) swift test --skip-build

integration-test: build images
	MOORD=$(BIN_DIR)/moord MOOR_CLI=$(BIN_DIR)/moor MOOR_SHIM=$(SHIM_BIN) MOOR_TEST_IMAGES=$(IMAGES_DIR) \
	  python3 -m pytest -q Tests/integration

test: unit-test integration-test

bench: deps images
	$(MAKE) build SWIFT_CONFIG=release
	MOORD=$(BIN_DIR)/moord MOOR_SHIM=$(SHIM_BIN) MOOR_TEST_IMAGES=$(IMAGES_DIR) python3 bench/run.py

# moord in the foreground on its default socket, busybox:latest ready.
run: build images
	@scripts/run-daemon.sh $(BIN_DIR) $(IMAGES_DIR)

install: build
	install -D -m 0755 $(SHIM_BIN) /usr/local/bin/moor-shim
	install -D -m 0755 $(BIN_DIR)/moord /usr/local/bin/moord
	install -D -m 0755 $(BIN_DIR)/moor /usr/local/bin/moor

clean:
	rm -rf $(BUILD_DIR) .build
