"""Break each seam once and check that its test fails (issue: tests that can fail).

    python tools/mutation_check.py [NAME ...]   # each line: CAUGHT, MISSED or ERROR, with pytest's last line

Each mutation is applied to a temporary copy of the tree (the working tree is never edited) and
the named test runs there; only a test failure (pytest's exit code 1) counts as CAUGHT: a
collection error, an interrupted run or no test selected is an ERROR. `tests/test_design.py`
checks that every seam's text still exists in the source, so this list cannot rot silently.
"""
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
SEAMS = [
 ("ritzhrta/training/loop.py", "if not (stage.keep_optimizer and state.opt is not None and previous == stage.optimizer):", "if True:", "test_keep_optimizer_keeps_adam_moments"),
 ("ritzhrta/training/steps.py", "                opt.state.pop(p, None)", "                pass", "test_refit_resets_only"),
 ("ritzhrta/training/solver.py", "        net.set_s(stages[0].s_at(0))\n", "", "test_solve_sets_stage_zero"),
 ("ritzhrta/training/loop.py", "if len(pending) >= sync_every or check or due or state.t == stage.steps:", "if len(pending) >= sync_every or check or due:", "test_sync_every"),
 ("ritzhrta/schedule.py", "if t < max(2 * w, self.min_steps):", "if t < 2 * w:", "test_plateau_min_steps"),
 ("ritzhrta/outputs/results.py", "w.writerow(row + [e.get(k, \"\") for k in keys])", "w.writerow(row)", "test_history_csv"),
 ("ritzhrta/training/loop.py", "    except FloatingPointError as err:  # a non-finite least-squares solve\n        raise DivergenceError", "    except ZeroDivisionError as err:\n        raise DivergenceError", "test_divergence_inside_an_alternating"),
 ("ritzhrta/cli/main.py", "EXIT_USAGE, EXIT_DIVERGED, EXIT_FAILED, EXIT_INTERRUPTED = 2, 3, 4, 130", "EXIT_USAGE, EXIT_DIVERGED, EXIT_FAILED, EXIT_INTERRUPTED = 2, 3, 2, 130", "test_a_failure_inside_a_run"),
 ("ritzhrta/training/steps.py", "    fit_output_layer(net, problem, interior, loss, boundary=boundary,", "    fit_output_layer(net, problem, interior, type(loss)(), boundary=boundary,", "test_loss_object_reaches"),
 ("ritzhrta/schedule.py", "(t / (self.steps - 1), 1.0)", "(t / self.steps, 1.0)", "test_ramp_reaches_its_end_value"),
 ("ritzhrta/schedule.py", "    return tuple(replace(stage, s=float(s)) for stage in schedule)", "    return tuple(replace(stage) for stage in schedule)", "test_reset_only_control_keeps"),
 ("ritzhrta/schedule.py", "        if not stage.keep_optimizer:\n            out.append(t)", "        out.append(t)", "test_reset_only_control_keeps"),
 ("ritzhrta/studies/comparison.py", "isinstance(loss, L2Loss) and getattr(loss, \"order\", 0) == 0", "isinstance(loss, L2Loss)", "test_win_metric_follows"),
 ("ritzhrta/studies/sweep.py", "        os.replace(tmp, path)", "        os.replace(tmp, path); Path(tmp).write_text('x')", "test_local_cluster_equals_serial"),
 ("ritzhrta/studies/sweep.py", "    if expected is not None and data[\"fingerprint\"] != expected:", "    if False:", "test_serial_sweep_skips"),
 ("ritzhrta/training/loop.py", "            dist.sum_grads(_params(run.net))\n", "", "test_two_ranks_equal_one_process and args0"),
 ("ritzhrta/forms/energy.py", "    return dist.all_sum_grad((U * interior.w.to(U.dtype)[:, None]).sum(0))", "    return (U * interior.w.to(U.dtype)[:, None]).sum(0)", "test_two_ranks_equal_one_process and args1"),
 ("ritzhrta/forms/losses.py", "            a0 = dist.all_sum(forms.bilinear(problem, interior, cols.values, cols.grads))", "            a0 = forms.bilinear(problem, interior, cols.values, cols.grads)", "test_two_ranks_equal_one_process and args2"),
 ("ritzhrta/training/lstsq.py", "        system = tuple(dist.all_sum(t) for t in loss.quadratic(problem, points, boundary, cols))", "        system = tuple(loss.quadratic(problem, points, boundary, cols))", "test_two_ranks_equal_one_process and args2"),
 ("ritzhrta/studies/comparison.py", "        return sum(x < y for x, y in pairs), len(pairs)", "        return sum(x <= y for x, y in pairs), len(pairs)", "test_wins_are_paired"),
 ("ritzhrta/studies/comparison.py", "    a = {r[\"seed\"]: r[key] for r in self.rows if r[\"config\"] == config}", "    a = {i: r[key] for i, r in enumerate(r for r in self.rows if r[\"config\"] == config)}", "test_wins_are_paired"),
 ("ritzhrta/training/steps.py", "                value = self.fn()\n", "                raise RuntimeError('x')\n", "test_compiled_steps_match_eager"),
 ("ritzhrta/training/analytic.py", "per_row = (xt ** 2).sum(1) + (xt.shape[1] - 1 if order == 1 else 0)", "per_row = (xt ** 2).sum(1) * len(xt)", "test_cg_hidden_step"),
 ("ritzhrta/forms/energy.py", "        a_d = beta * (P * wd[:, None]).T @ P - cross - cross.T", "        a_d = beta * (P * wd[:, None]).T @ P - cross", "test_ritz_quadratic_form_matches"),
 ("ritzhrta/forms/losses.py", "            b_vec = b_vec - forms.bilinear(", "            b_vec = b_vec - 0 * forms.bilinear(", "test_a_nonzero_lift"),
 ("ritzhrta/geometry/quadrature.py", "    ref_w = (wu * wv).ravel() * (1 - u)", "    ref_w = (wu * wv).ravel() * 0.5", "test_triangle_rule"),
 ("ritzhrta/geometry/domains.py", "            return 1 - (r ** 2).sum(1) / radius ** 2, -2 * r / radius ** 2", "            return 1 - (r ** 2).sum(1) / radius ** 2, -r / radius ** 2", "test_boundary_values_are_exact"),
 ("ritzhrta/forms/losses.py", "        return replace(self, beta=safety * max(lam, 1e-12))", "        return replace(self, beta=1e-3)", "test_calibrated_nitsche"),
 ("ritzhrta/training/threads.py", "    if cores == 1 or width * points < BREAK_EVEN or load > cores - 1:", "    if cores == 1 or width * points < BREAK_EVEN:", "test_thread_default"),
 ("ritzhrta/activations.py", "        return (k * (k - 1)) * (torch.addcmul(g_dact, g_act, y, value=1.0 / (k - 1)) * yk2), None", "        return (k * (k - 1)) * (torch.addcmul(g_dact, g_act, y, value=1.0 / k) * yk2), None", "test_fast_pair_first_and_second"),
 ("ritzhrta/activations.py", "    if s == 1.0:  # σ'·σ = σ: d/dz σ^k = k·σ^(k−1)\n        return act, k * yk1", "    if s == 1.0:\n        return act, k * yk1 * 0.999", "test_fast_pair_matches"),
 ("ritzhrta/nets/networks.py", "    module._s_value = check_s(float(module.s))", "    pass", "test_load_state_dict_carries_s"),
 ("ritzhrta/nets/networks.py", "    inner.hidden.bias.copy_(-(w * centres).sum(1))", "    inner.hidden.bias.copy_((w * centres).sum(1))", "test_place_kinks_puts_every_kink"),
 ("ritzhrta/training/gauss_newton.py", "        return (gradient_of(_Shifted(tangents)) - g0) / c", "        return (gradient_of(_Shifted(tangents)) - g0) / (2 * c)", "test_matrix_free_gram_product"),
 ("ritzhrta/training/gauss_newton.py", "                dot = sum((gk * self.tangents[k]).sum() for gk, k in zip(grads, names))", "                dot = sum((gk * self.tangents[k]).sum() for gk, k in list(zip(grads, names))[:-1])", "test_matrix_free_gram_product"),
 ("ritzhrta/geometry/distance.py", "    return 1 / (1 / phi_i).sum(1)", "    return 1 / (1 / phi_i).sum(1) + 1e-3", "test_boundary_values_are_exact"),
 ("ritzhrta/training/routes.py", "    trainer = trainer or (\"galerkin\" if pde else \"gradient\")", "    trainer = trainer or \"gradient\"", "test_default_route_for_pde"),
 ("ritzhrta/cli/main.py", "        if given:\n            flags", "        if False:\n            flags", "test_gradient_options_with_the_galerkin_default"),
 ("ritzhrta/training/loop.py", "    if interior.x.shape[0] >= 4 * unknowns:", "    if True:", "test_in_loop_refits_use_at_least"),
 # issue 14: meshes, tags, coefficients, interface, FEM reference
 ("ritzhrta/forms/energy.py", "    wa = w * problem.a(x).to(dtype)", "    wa = w", "test_smooth_coefficient_against"),
 ("ritzhrta/forms/energy.py", "        C = N * problem.a(xb).to(dtype)[:, None]  # the flux a∂_n ψ", "        C = N", "test_smooth_coefficient_against"),
 ("ritzhrta/nets/interface.py", "        return p, dp[:, :, :-1] + dp[:, :, -1:] * extra[:, None, :]", "        return p, dp[:, :, :-1]", "test_interface_net_gradient"),
 ("ritzhrta/geometry/mesh_domain.py", "        n[np.einsum(\"fd,fd->f\", n, inward) > 0] *= -1", "        n[np.einsum(\"fd,fd->f\", n, inward) < 0] *= -1", "test_plate_geometry"),
 ("ritzhrta/geometry/mesh_domain.py", "            self.facet_tag[free] = tag_id", "            self.facet_tag[free] = 0", "test_tagged_conditions"),
 ("ritzhrta/geometry/mesh_domain.py", "            found = np.where(worst >= -slack, found, -1)", "            pass", "test_plate_geometry"),
 ("ritzhrta/geometry/quadrature.py", "        ref_w = ref_w * rest if i > 0 else ref_w", "        ref_w = ref_w", "test_simplex_rule"),
 ("ritzhrta/reference/fem.py", "            estimate = math.sqrt(2 * drop * q / (1 - q) / stiff) if stiff > 0 else math.inf", "            estimate = math.sqrt(2 * drop / stiff) if stiff > 0 else math.inf", "test_fem_reference_estimate"),
 ("ritzhrta/geometry/mesh_domain.py", "        return merge_collinear(self.points[self.facets[keep]])", "        return self.points[self.facets[keep]]", "test_cli_plate_hole"),
 ("ritzhrta/forms/energy.py", "        b = b + (Ub * keep[:, None]).sum(0)", "        b = b", "test_cli_plate_hole"),
 ("ritzhrta/reference/fem.py", "            cells = self._locator(xs, nearest=True)", "            cells = self._locator(xs, nearest=True)[::-1].copy()", "test_reference_values_match"),
 # issue 23: the residual route, the estimate, the lift
 ("ritzhrta/forms/residual.py", "    return r if da is None else r + (da * g).sum(1)", "    return r", "test_loss_value_equals_its_rows"),
 ("ritzhrta/forms/residual.py", "            op = op - torch.einsum(\"nmd,nd->nm\", cols.grads, da.double())", "            op = op", "test_variable_coefficient_uses_its_gradient"),
 ("ritzhrta/nets/features.py", "        self._corners = enrichment.corner_functions(domain) if enrich else []", "        self._corners = []", "test_corner_functions_restore"),
 ("ritzhrta/training/estimate.py", "    if tuple(rule) == (order, cells):\n        cells += 2", "    return run.sampler.interior, run.sampler.boundary", "test_estimate_tracks_the_error"),
 ("ritzhrta/nets/exact_bc.py", "        self.lift = boundary_lift(problem.domain, lift, problem)", "        self.lift = lift", "test_the_lift_never_evaluates_h_inside"),
 ("ritzhrta/geometry/lift.py", "        if not v.requires_grad:\n            raise ValueError(refusal)", "        if False:\n            raise ValueError(refusal)", "test_numpy_dirichlet_data_is_refused"),
 ("ritzhrta/geometry/lift.py", "    if total > 0 and float((change - predicted).abs().sum()) > 0.5 * total:", "    if False:", "test_numpy_dirichlet_data_is_refused"),
 # issue 27: reliability
 ("ritzhrta/outputs/lock.py", "            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)", "            pass", "test_a_second_writer_of_a_run_folder_is_refused"),
 ("ritzhrta/outputs/runs.py", "        for name in FILES:  # an older run's outputs go", "        for name in ():  # an older run's outputs go", "test_force_removes_the_old_outputs"),
 ("ritzhrta/geometry/mesh_domain.py", "        if abs(total - enclosed) > 1e-9 * total:", "        if False:", "test_duplicated_and_overlapping_cells"),
 ("ritzhrta/outputs/runs.py", "    reason = foreign_reason(state, config)\n", "    reason = None\n", "test_a_foreign_checkpoint"),
 ("ritzhrta/outputs/runs.py", "def check_folder(out: Path) -> None:\n", "def check_folder(out: Path) -> None:\n    return\n", "test_a_run_folder_removed_mid_run"),
 ("ritzhrta/training/loop.py", "                \"cpu_elapsed\": cpu_seconds() - self.start_cpu,", "                \"cpu_elapsed\": 0.0,", "test_an_interrupted_stage_is_in_the_table"),
 ("ritzhrta/training/memory.py", "    if have is not None and need > FRACTION * have:  # the whole run's model", "    if False:", "test_the_memory_model_matches_its_rows"),
 ("ritzhrta/training/memory.py", "    if have is not None and need > FRACTION * have:\n", "    if False:\n", "test_bad_input_is_refused_in_one_line"),
 # issue 22: iteration-granular stops in solve stages
 ("ritzhrta/training/loop.py", "resume=state.solver_state,", "resume=None,", "test_a_stop_inside_a_solve_stage_takes_one_iteration"),
 ("ritzhrta/training/gauss_newton.py", "        if stop is not None and stop() and it + 1 < iterations:", "        if False:", "test_a_stop_inside_a_solve_stage_takes_one_iteration"),
 ("ritzhrta/training/adaptive.py", "    eta2 = h ** 2 * np.bincount(owner, res[:n], minlength=len(leaves))", "    eta2 = h ** 2 * 0 * np.bincount(owner, res[:n], minlength=len(leaves))", "test_refinement_follows_the_estimate"),
 ("ritzhrta/nets/local.py", "        lap = e * (r2 / s2 ** 2 - self.dim / s2)", "        lap = e * (r2 / s2 - self.dim / s2)", "test_local_features_derivatives_match_autograd"),
 ("ritzhrta/forms/energy.py", "    h = torch.zeros_like(wd) if homogeneous else problem.h(xb).to(dtype)", "    h = torch.zeros_like(wd)", "test_ritz_quadratic_form_matches"),
 ("ritzhrta/forms/energy.py", "    wk = boundary.w.to(dtype) * problem.kappa(xb).to(dtype) * (~problem.dirichlet_mask(xb))", "    wk = boundary.w.to(dtype) * 0 * (~problem.dirichlet_mask(xb))", "test_the_ritz_quadratic_matches_the_energy_with_a_robin_part"),
 ("ritzhrta/forms/residual.py", "                flux = flux + problem.kappa(xn).double()[:, None] * cols.boundary[keep]", "                flux = flux", "test_robin_conditions_in_the_ritz_energy"),
 ("ritzhrta/reference/fem.py", "            K = K + robin.assemble(fb)", "            K = K", "test_robin_conditions_in_the_ritz_energy"),
 ("ritzhrta/cli/main.py", "            if not config.adaptive:  # the adaptive route keeps no checkpoint", "            if True:  # the adaptive route keeps no checkpoint", "test_an_interrupted_adaptive_run"),
 # issue 36: the high-dimensional route
 ("ritzhrta/nets/separated.py", "        lap = (g2[..., 0] * P[..., 0] + g[..., 0] * Q[..., 0]).sum(1)", "        lap = (g2[..., 0] * P[..., 0]).sum(1)", "test_separated_derivatives_and_jacobians_match_autograd"),
 ("ritzhrta/training/highdim.py", "    rw = rw - (mains @ torch.linalg.lstsq(mains, rw[:, None]).solution)[:, 0]", "    rw = rw", "test_pairs_are_found_and_enriched"),
 ("ritzhrta/training/highdim.py", "    reported = second if rounding else (smaller if larger <= DISAGREE * smaller else larger)", "    reported = second", "test_the_reported_estimate_is_the_larger_where_the_opinions_disagree"),
 ("ritzhrta/training/highdim.py", "            grow = sep and unresolved() and separated_ranks([1])", "            grow = False and separated_ranks([1])", "test_a_product_solution_takes_the_separated_family"),
 ("ritzhrta/training/highdim.py", "        return net.scale * act, net.scale * dact, net.scale * d2", "        return act, dact, d2", "test_the_default_route_in_five_dimensions"),
 # issue 35: faults
 ("ritzhrta/training/solver.py", "    if result.status == \"finished\" and stop is not None and stop():", "    if False:", "test_a_stop_after_training_is_honoured_in_every_phase"),
 ("ritzhrta/outputs/runs.py", "    phase(\"summary\")  # a stop during the last output", "    pass  # a stop during the last output", "test_a_stop_after_training_is_honoured_in_every_phase"),
 ("ritzhrta/outputs/runs.py", "    if stage > len(stages) or (stage < len(stages) and t > stages[stage].steps) or schedule_steps(stages) < done:", "    if False:", "test_resume_takes_the_settings_a_user_may_change"),
 ("ritzhrta/outputs/runs.py", "    return {k: v for k, v in config.to_dict().items() if k not in RESUMABLE and k != \"out\"}", "    return {k: v for k, v in config.to_dict().items() if k != \"out\"}", "test_resume_takes_the_settings_a_user_may_change"),
 ("ritzhrta/geometry/mesh_domain.py", "    keys = np.sort(canon[cells], axis=1)", "    keys = np.sort(cells, axis=1)", "test_duplicated_and_overlapping_cells"),
 ("ritzhrta/training/solver.py", "        problem.check_data(sampler.interior.x", "        (sampler.interior.x", "test_nan_source_is_named_with_its_point"),
 ("ritzhrta/training/estimate.py", "    for line in lines:\n        warnings.warn(line, UnresolvedWarning, stacklevel=user_stacklevel())", "    for line in lines:\n        warnings.warn(line, UnresolvedWarning, stacklevel=3)", "test_the_unresolved_warning_points_at_the_callers_line"),
 ("ritzhrta/outputs/io.py", "        self.dir_fd = os.open(self.path.parent, os.O_RDONLY)", "        self.dir_fd = os.open(self.path.parent, os.O_RDONLY)\n        self.dir_fd = os.open(os.getcwd(), os.O_RDONLY)", "test_a_folder_moved_during_a_write"),
 ("ritzhrta/outputs/runs.py", "            apply_threads(config, hint=progress)\n            return _run_adaptive", "            return _run_adaptive", "test_adaptive_resume_runs_on_the_saved_threads"),
 ("ritzhrta/cli/main.py", "    for sig in (signal.SIGINT, signal.SIGTERM):\n        signal.signal(sig, quiet)", "    pass", "test_a_signal_during_the_interpreters_shutdown"),
 ("ritzhrta/trainers/highdim.py", "        return bool(asked) or (stop is not None and stop())", "        return stop is not None and stop()", "test_a_stop_inside_the_route_ends_it"),
 ("ritzhrta/training/solver.py", "    if err > max(tol, INCONSISTENT * eta):", "    if False:", "test_an_exact_solution_the_problem_does_not_have"),
 ("ritzhrta/outputs/runs.py", "    points = training_points(config, problem)\n", "    points = config.points or problem.points\n", "test_the_thread_policy_counts_the_points"),
 ("ritzhrta/training/memory.py", "    found = [v for v in (_meminfo(), _cgroup_room(), _address_room()) if v is not None]", "    found = [v for v in (_meminfo(),) if v is not None]", "test_the_limits_that_apply_are_read"),
 ("ritzhrta/training/memory.py", "        own = OVERHEAD + GRADIENT_STATE * _parameters(d, m, depth) * b + \\", "        own = OVERHEAD + 0 * _parameters(d, m, depth) * b + \\", "test_the_memory_model_matches_its_rows"),
 ("ritzhrta/cli/main.py", "        unread = sorted(set(_given(args)) - ADAPTIVE_READS)", "        unread = []", "test_adaptive_refuses_the_options_it_would_ignore"),
 ("ritzhrta/cli/main.py", "    if args.resume is not None:  # settings a resume may change are applied to config.json, the others refused\n        changed = _resume_changes(args)", "    if False:\n        changed = _resume_changes(args)", "test_resume_takes_the_settings_a_user_may_change"),
]


def run(path: str, old: str, new: str, test: str) -> tuple[str, str]:
    """Apply one mutation in a copy of the tree and run its test; (verdict, pytest's last line)."""
    with tempfile.TemporaryDirectory(prefix="ritzhrta-seam-") as tmp:
        copy = pathlib.Path(tmp) / "tree"
        shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".git", "runs", "__pycache__", "*.egg-info",
                                                                 "results", "img", ".gl", ".whl"))
        target = copy / path
        src = target.read_text()
        if old not in src:
            return "ERROR", f"the seam's text is not in {path}"
        target.write_text(src.replace(old, new, 1))
        env = {**os.environ, "PYTHONPATH": str(copy)}
        r = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-k", test, "tests/"],
                           cwd=copy, env=env, capture_output=True, text=True, timeout=600)
    last = ([line for line in r.stdout.splitlines() if line.strip()] or [""])[-1]
    return {0: "MISSED", 1: "CAUGHT"}.get(r.returncode, "ERROR"), last


def main(only: list[str]) -> int:
    missed = 0
    for path, old, new, test in SEAMS:
        if only and not any(o in test for o in only):
            continue
        verdict, last = run(path, old, new, test)
        missed += verdict != "CAUGHT"
        print(f"{verdict} {test}: {last}", flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
