// Stand-in for the colocated hooks upstream compiles from `<script :type={ColocatedHook}>` tags
// (`Phoenix.LiveView.ColocatedAssets`). Only the hooks of the views livefire-upstream ports are
// here, under the fully qualified names HEEx gives them (`.Name` in module `M` is `M.Name`).
export const hooks = {
  // support/issues/issue_4147.ex
  "Phoenix.LiveViewTest.E2E.Issue4147Live.HookOutside": {
    mounted() {
      console.log("HookOutside mounted");
    },
  },
};
export default { hooks };
