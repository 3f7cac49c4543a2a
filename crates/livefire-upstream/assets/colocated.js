// Stand-in for the colocated hooks upstream compiles from `<script :type={ColocatedHook}>` tags.
// Only the hooks of the views livefire-upstream supports are here.
export const hooks = {};
export default {};
