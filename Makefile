# moor — build, test, benchmark and run. Every target installs what it needs.
SHELL := /bin/bash
.DEFAULT_GOAL := build

# Debian packages the build, the tests and the benchmarks need.
APT_PACKAGES := build-essential pkg-config libseccomp-dev libcap-dev libjson-c-dev \
                busybox-static iproute2 runc conmon docker.io python3 jq
BUILD_DIR := $(CURDIR)/build
SHIM_BIN := $(BUILD_DIR)/bin/moor-shim
IMAGES_DIR := $(BUILD_DIR)/images
SHIM_SOURCES := $(wildcard CShim/core/*.c) CShim/main/moor-shim.c
SHIM_HEADERS := $(wildcard CShim/core/include/*.h) $(wildcard CShim/protocol/include/*.h)
# Lean static link: the shim must stay under 1 MiB RSS per container.
SHIM_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Os -g0 -Wall -Wextra -Werror=implicit-function-declaration -Wno-format-truncation \
               -ffunction-sections -fdata-sections -ICShim/core/include -ICShim/protocol/include
SHIM_LDFLAGS := -static -Wl,--gc-sections -s
SHIM_LIBS := -lseccomp -lcap -ljson-c

.PHONY: deps build shim images test unit-test bench run install clean

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi

$(SHIM_BIN): $(SHIM_SOURCES) $(SHIM_HEADERS)
	@mkdir -p $(dir $@)
	cc $(SHIM_CFLAGS) -o $@ $(SHIM_SOURCES) $(SHIM_LDFLAGS) $(SHIM_LIBS)

shim: deps $(SHIM_BIN)

build: deps $(SHIM_BIN)
	swift build

images: deps
	@scripts/build-test-images.sh $(IMAGES_DIR)

test: deps $(SHIM_BIN) images
	swift build --build-tests
	MOOR_SHIM=$(SHIM_BIN) MOOR_TEST_IMAGES=$(IMAGES_DIR) swift test --skip-build

bench: deps $(SHIM_BIN) images
	MOOR_SHIM=$(SHIM_BIN) MOOR_TEST_IMAGES=$(IMAGES_DIR) python3 bench/run.py

run: deps $(SHIM_BIN) images
	@scripts/run-one.sh $(SHIM_BIN) $(IMAGES_DIR)

install: build
	install -D -m 0755 $(SHIM_BIN) /usr/local/bin/moor-shim

clean:
	rm -rf $(BUILD_DIR) .build
