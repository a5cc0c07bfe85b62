export function DemoBadge({ demo }: { demo: boolean | undefined }) {
  if (!demo) return null;
  return (
    <span className="badge badge-demo" title="vmpulse shows a simulated fleet (libvirt's test driver), not real hosts">
      Demo fleet
    </span>
  );
}
