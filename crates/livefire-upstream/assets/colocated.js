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
  // support/issues/issue_4066.ex
  "Phoenix.LiveViewTest.E2E.Issue4066Live.LiveComponent.MyHook": {
    mounted() {
      this.el.addEventListener("input", () => {
        setTimeout(() => {
          this.pushEventTo(this.el, "do-something", { value: 100 });
          this.liveSocket.js().setAttribute(document.body, "data-pushed", "yes");
        }, parseInt(this.el.dataset.delay));
      });
    },
  },
  // support/issues/issue_4088.ex
  "Phoenix.LiveViewTest.E2E.Issue4088Live.LC.MyHook": {
    mounted() {
      this.pushEventTo(this.el, "my_update", {});
      this.pushEventTo(this.el, "my_update", {});
      this.pushEventTo(this.el, "my_update", {});
    },
  },
  // support/issues/issue_4209.ex
  "Phoenix.LiveViewTest.E2E.Issue4209Live.LockedPanel": {
    mounted() {
      this.el
        .querySelector("#start-locked-update")
        .addEventListener("click", () => {
          this.pushEventTo("#slow-target-child", "hold-lock", {});
        });
    },
  },
  // support/portal.ex
  "Phoenix.LiveViewTest.E2E.PortalLive.InsidePortal": {
    mounted() {
      this.js().setAttribute(this.el, "data-portalhook-mounted", "true");
    },
  },
  "Phoenix.LiveViewTest.E2E.PortalLive.LC.TeleportedLCButton": {
    mounted() {
      this.el.addEventListener("click", () => {
        this.pushEventTo(this.el, "prepend");
      });
    },
  },
};
export default { hooks };
