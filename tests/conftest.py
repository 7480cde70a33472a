import pytest
import torch

# The slow tier: tests that took 1.5 s or more (`pytest --durations`, this project's 2-core machine).
# `pytest -m "not slow"` is the fast tier (under 90 s); `make test` (CI) runs everything.
SLOW = {
    "tests/test_adaptive.py::test_an_interrupted_adaptive_run_says_so_and_resume_starts_it_again",
    "tests/test_adaptive.py::test_the_cli_adaptive_route_writes_levels_and_the_patch_level",
    "tests/test_adaptive.py::test_the_peak_to_1e_3_and_the_estimate_tracks_the_error",
    "tests/test_adaptive.py::test_refinement_follows_the_estimate_to_a_peak_it_was_not_told_about",
    "tests/test_design.py::test_a_new_domain_is_one_file_and_one_registry_line",
    "tests/test_analytic.py::test_alternating_homotopy_ladder_resolves_at_each_s",
    "tests/test_analytic.py::test_beats_2000_adam_steps_on_sin_2pi_x",
    "tests/test_analytic.py::test_mixed_schedule_alternating_then_adam",
    "tests/test_benchmarks.py::test_quick_mode",
    "tests/test_benchmarks.py::test_quick_mode_never_writes_the_committed_results",
    "tests/test_cli.py::test_console_script_entry_point",
    "tests/test_cli.py::test_default_route_for_pde_problems_is_the_galerkin_solve",
    "tests/test_cli.py::test_depth_float64_and_preset",
    "tests/test_cli.py::test_export_and_plot_from_a_run_folder",
    "tests/test_cli.py::test_init_kinks_from_the_cli_and_its_refusal",
    "tests/test_cli.py::test_trainer_adam_keeps_the_papers_defaults",
    "tests/test_compare.py::test_compare_and_ntk_commands",
    "tests/test_compare.py::test_compare_command_with_controls",
    "tests/test_design.py::test_importing_problems_loads_neither_the_solver_nor_plotting",
    "tests/test_design.py::test_in_loop_refits_use_at_least_four_points_per_unknown",
    "tests/test_design.py::test_python_dash_m_ritzhrta_and_the_installed_console_script",
    "tests/test_design.py::test_the_api_reference_builds_without_warnings",
    "tests/test_distributed.py::test_two_ranks_equal_one_process",
    "tests/test_exact_bc.py::test_a_nonzero_lift_enters_the_galerkin_system",
    "tests/test_exact_bc.py::test_cli_exact_route_and_its_refusal",
    "tests/test_exact_bc.py::test_galerkin_with_exact_imposition_solves_the_dirichlet_problem_to_1e4",
    "tests/test_exact_bc.py::test_nonzero_boundary_data_and_gauss_newton_through_the_wrapper",
    "tests/test_exact_bc.py::test_polygon_imposition_converges_and_nitsche_stays_the_polygon_default",
    "tests/test_examples.py::test_custom_problem",
    "tests/test_examples.py::test_function_approximation",
    "tests/test_examples.py::test_mesh_domain",
    "tests/test_examples.py::test_poisson2d_export",
    "tests/test_examples.py::test_poisson2d_gauss_newton",
    "tests/test_examples.py::test_poisson2d_hrta",
    "tests/test_examples.py::test_poisson2d_ritz",
    "tests/test_examples.py::test_poisson3d",
    "tests/test_galerkin.py::test_galerkin_and_gauss_newton_stages_through_solve",
    "tests/test_highdim.py::test_the_default_route_in_five_dimensions",
    "tests/test_highdim_route.py::test_a_ridge_solution_is_found_along_its_direction",
    "tests/test_highdim_route.py::test_a_stop_inside_the_route_ends_it_and_resume_equals_the_uninterrupted_run",
    "tests/test_stop_phases.py::test_a_stop_after_training_is_honoured_in_every_phase_and_resume_does_not_retrain",
    "tests/test_faults_35.py::test_the_cli_solves_a_problem_from_the_users_file",
    "tests/test_faults_35.py::test_the_seed_of_solve_reaches_the_network",
    "tests/test_faults_35.py::test_adaptive_resume_runs_on_the_saved_threads",
    "tests/test_faults_35.py::test_a_signal_during_the_interpreters_shutdown_prints_no_traceback",
    "tests/test_mesh_domain.py::test_cli_plate_hole_with_reference",
    "tests/test_mesh_domain.py::test_cli_poisson3d_default_and_part3d",
    "tests/test_mesh_domain.py::test_fem_reference_agrees_with_exact_solutions",
    "tests/test_mesh_domain.py::test_fem_reference_estimate_is_honest",
    "tests/test_mesh_domain.py::test_interface_net_gradient_and_the_two_material_problem",
    "tests/test_mesh_domain.py::test_reference_values_match_scikit_fem_probes",
    "tests/test_mesh_domain.py::test_smooth_coefficient_against_its_exact_solution",
    "tests/test_reliability.py::test_a_stop_inside_a_solve_stage_takes_one_iteration_and_resume_is_exact",
    "tests/test_reliability.py::test_ctrl_c_in_a_dask_sweep_is_one_line",
    "tests/test_reliability.py::test_kill_during_checkpoint_write_never_leaves_a_torn_file",
    "tests/test_reliability.py::test_sigint_stops_after_the_step_writes_everything_and_resume_is_bitwise",
    "tests/test_reliability.py::test_stdout_closed_early_is_not_a_failure",
    "tests/test_reliability.py::test_summary_names_the_settings_a_run_does_not_use",
    "tests/test_residual.py::test_corner_functions_restore_fast_convergence_on_the_lshape",
    "tests/test_residual.py::test_routes_that_cannot_be_redrawn_are_measured_against_a_reference",
    "tests/test_residual.py::test_spectral_convergence_to_1e_8",
    "tests/test_solve.py::test_compiled_steps_match_eager",
    "tests/test_solve.py::test_mlp_and_float64_and_eval_every",
    "tests/test_solve.py::test_ritz_with_dirichlet_penalty_reduces_error",
    "tests/test_solve.py::test_seed_gives_identical_history",
    "tests/test_solve.py::test_short_solve_reduces_error_tenfold",
    "tests/test_solve.py::test_solve_of_a_problem_alone_runs_the_cli_default_route",
    "tests/test_sweep.py::test_compare_command_workers_2_equals_workers_1",
    "tests/test_sweep.py::test_local_cluster_equals_serial_even_when_a_worker_dies",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid.split("[")[0] in SLOW:
            item.add_marker(pytest.mark.slow)

# One thread per test process: on a shared 2-core machine, torch's two threads slowed
# small problems down by up to 50x under outside load; one thread is steady.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield
    torch.set_num_threads(1)  # a test that resumed a run with --threads N leaves one thread behind it


@pytest.fixture
def interrupt(monkeypatch):
    """``(install, restore)``: ``install(step)`` makes ``ritzhrta.outputs.runs.solve`` raise
    KeyboardInterrupt once a step is done (a Ctrl-C mid-run); ``restore()`` undoes it."""
    import ritzhrta.outputs.runs as runs

    real = runs.solve

    def install(step: int) -> None:
        def interrupted(*args, callback=None, **kwargs):
            def stop(info):
                if info.step == step:
                    raise KeyboardInterrupt
                return callback(info) if callback is not None else None
            return real(*args, callback=stop, **kwargs)
        monkeypatch.setattr(runs, "solve", interrupted)

    def restore() -> None:
        monkeypatch.setattr(runs, "solve", real)

    return install, restore
