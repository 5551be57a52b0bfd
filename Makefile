# Each target is one line calling a hack/ script; see README.md.
.PHONY: build test stress image engine lint demo bench chaos soak fuzz swarm-up swarm-down swarm-e2e ldms-test
build: ; hack/build.sh
engine: ; hack/ensure-docker.sh
image: ; hack/ensure-docker.sh && hack/build-image.sh
test: ; hack/test.sh
stress: ; hack/stress.sh
lint: ; hack/lint.sh
demo: ; hack/demo.sh
bench: ; hack/bench.sh
chaos: ; hack/chaos.sh
soak: ; hack/soak.sh
fuzz: ; hack/fuzz.sh
swarm-up: ; hack/swarm-up.sh $(N)
swarm-down: ; hack/swarm-down.sh
swarm-e2e: ; hack/swarm-e2e.sh
ldms-test: ; hack/ldms-test.sh
