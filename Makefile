# Bootstrap and everyday commands. Every target installs what it needs into .venv first (idempotent:
# the install re-runs only when pyproject.toml or the constraints change).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH := torch==2.13.0
EXTRAS := motion,eval,train,test,hmi,space

.PHONY: install demo browser test lint format constraints benchmarks benchmark-tables synthmotion-tiny synthmotion-tables clean

$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first and pinned: a bare `torch` requirement would otherwise pull a multi-GB CUDA build
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e ".[$(EXTRAS)]"
	$(BIN)/python -m macm.processing.pose.model_files
	touch $(STAMP)

install: $(STAMP)

# serves the demo page (space/app.py) on the embedded checkpoint and prints its local URL; Ctrl+C stops it
demo: $(STAMP)
	$(BIN)/macm demo

# the headless Chromium the Space's browser test drives (Debian's package; MACM_SKIP_BROWSER_TESTS=1 opts out)
browser:
	bash ci/install_browser.sh

test: $(STAMP) browser
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Every benchmark's JSON into one folder, its table rendered from it and put into the README (the figures there are
# never typed by hand). Each script takes smaller settings through its *_ARGS variable, e.g.
# MSD_OVERHEAD_ARGS="--new-tokens 32 --repeats 2".
BENCH_OUT := runs/benchmarks
MSD_OVERHEAD_ARGS ?=
MOTION_THROUGHPUT_ARGS ?=
SPACE_LOAD_ARGS ?=
benchmarks: $(STAMP)
	mkdir -p $(BENCH_OUT)
	$(BIN)/python benchmarks/msd_overhead.py $(MSD_OVERHEAD_ARGS) > $(BENCH_OUT)/msd_overhead.json
	$(BIN)/python benchmarks/motion_throughput.py $(MOTION_THROUGHPUT_ARGS) > $(BENCH_OUT)/motion_throughput.json
	$(BIN)/python benchmarks/space_load.py $(SPACE_LOAD_ARGS) > $(BENCH_OUT)/space_load.json
	$(MAKE) benchmark-tables

# The README's measured-figures tables from whatever JSON $(BENCH_OUT) holds.
benchmark-tables: $(STAMP)
	$(BIN)/python benchmarks/tables.py $(BENCH_OUT)
	$(BIN)/python -m macm.hub_cards.benchmark_tables README.md \
		$(foreach name,msd_overhead space_load motion_throughput,$(if $(wildcard $(BENCH_OUT)/$(name).json),\
		--table $(subst _,-,$(name))=$(BENCH_OUT)/$(name).md))

# The embedded SynthMotion model from scratch on CPU: data, random init, the visual tower pretrained on the
# ground-truth joints, BlazePose's errors recorded on clips of a calibration seed, the joints motion encoder pretrained
# on generated joint sequences (half of them with those errors replayed), SFT, and the benchmark with
# ground-truth and estimated (BlazePose) poses. Every step is skipped when its output exists and SFT resumes from its
# last checkpoint, so an interrupted run picks up where it stopped. Copy runs/synthmotion-tiny to
# space/synthmotion-tiny (without its checkpoint-* folders) to embed the result.
SYNTH_INIT := --synthmotion --vision-hidden 96 --vision-layers 2 --patch-size 24 --text-hidden 192 --text-layers 4 \
	--text-mlp-ratio 2 --num-keyframes 16 --motion-encoder joints
synthmotion-tiny: $(STAMP)
	test -f data/synthmotion/README.md || $(BIN)/macm synth --out data/synthmotion --num 3000 --seed 0 --workers 2
	test -f runs/synthmotion-init/config.json || \
		$(BIN)/python -m macm.trainer.init_from_scratch $(SYNTH_INIT) --out runs/synthmotion-init
	test -f runs/synthmotion-init-pose/config.json || $(BIN)/python -m macm.trainer.pose_pretrain \
		--model runs/synthmotion-init --data data/synthmotion --out runs/synthmotion-init-pose --steps 2000
	test -f runs/estimator-residuals.npz || $(BIN)/python -m macm.trainer.estimator_noise \
		--out runs/estimator-residuals.npz --clips 300 --seed 2000
	test -f runs/synthmotion-init-motion/motion_pretrain.json || $(BIN)/python -m macm.trainer.motion_pretrain \
		--model runs/synthmotion-init-pose --out runs/synthmotion-init-motion --steps 6000 \
		--estimator-residuals runs/estimator-residuals.npz
	test -f runs/synthmotion-tiny-stage1/model.safetensors || \
		$(BIN)/python trainer/sft_macm.py --config trainer/configs/synthmotion_tiny.yaml
	test -f runs/synthmotion-tiny/model.safetensors || \
		$(BIN)/python trainer/sft_macm.py --config trainer/configs/synthmotion_tiny_finetune.yaml
	$(BIN)/python benchmarks/synthmotion.py --model runs/synthmotion-tiny --out runs/synthmotion-tiny/benchmark
	$(BIN)/python benchmarks/synthmotion.py --model runs/synthmotion-tiny --pose-source estimated \
		--modes visual motion msd --out runs/synthmotion-tiny/benchmark-estimated
	$(BIN)/python benchmarks/msd_pruning.py --model runs/synthmotion-tiny --out runs/synthmotion-tiny/msd-pruning

# After copying a run into space/synthmotion-tiny (with its benchmark folders): the README's and the card's tables are
# the benchmark's own table.md and followed.md files.
EMBEDDED := space/synthmotion-tiny
synthmotion-tables: $(STAMP)
	$(BIN)/python -m macm.hub_cards.benchmark_tables README.md $(EMBEDDED)/README.md \
		--table synthmotion-ground-truth=$(EMBEDDED)/benchmark/table.md \
		--table synthmotion-estimated=$(EMBEDDED)/benchmark-estimated/table.md \
		--table synthmotion-msd-followed=$(EMBEDDED)/benchmark/followed.md \
		--table synthmotion-msd-pruning=$(EMBEDDED)/msd-pruning/pruning.md

constraints: $(STAMP)
	{ echo "# Exact versions the project is tested with (pip -c). Regenerate with: make constraints"; \
	  $(BIN)/python -m pip freeze --exclude-editable | sed 's/^torch==.*/$(TORCH)/'; } > requirements/constraints.txt

clean:
	rm -rf $(VENV) outputs .pytest_cache .ruff_cache
