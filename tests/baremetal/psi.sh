#!/usr/bin/env bash
# Ψ (transition intensity) from trap counts: the nucleus's PsiEngine classifies
# each partition's epochs; a hypercall-heavy partition is transitioning, one
# that only spins is idle, and the policy's signals reach the scheduler.
source "$(dirname "$0")/lib.sh"
# (Its last epoch may be ONE when the host is loaded: TCG runs fewer guest
# instructions per epoch then, so the count of PSI epochs is what counts.)
expect_line '^rvm-bm: summary bench .* psi_epochs=[1-9][0-9]* psi_last=[a-z]+ psi_ratio_ppm=[1-9][0-9]*$' "the hypercall-heavy bench partition was transitioning (PSI epochs)"
expect_line '^rvm-bm: summary spinner .* psi_epochs=0 psi_last=zero psi_ratio_ppm=0$' "the spinner (timer exits only) is idle (ZERO)"
finish
