//! `Issue3656Live` (`support/issues/issue_3656.ex`): `phx-click-loading` is removed from a
//! navigate link inside a sticky live view.

use livefire::nested::live_render;
use livefire::{LiveView, Rendered, Socket, html};

use crate::layout;

const STYLE: &str = "
      * { font-size: 1.1em }
      nav { margin-top: 1em }
      nav a { padding: 8px 16px; border: 1px solid black; text-decoration: none }
      nav a:visited { color: inherit }
      nav a.active { border: 3px solid green }
      nav a.phx-click-loading { animation: pulsate 2s infinite }
      @keyframes pulsate {
        0% {
          background-color: white;
        }
        50% {
          background-color: red;
        }
        100% {
          background-color: white;
        }
      }
";

/// `Issue3656Live`.
#[derive(Debug, Default)]
pub struct Issue3656Live;

impl LiveView for Issue3656Live {
    type Message = ();

    fn render(&self, socket: &Socket) -> Rendered {
        let style = livefire::Raw::new_unchecked(STYLE);
        layout::live(
            socket,
            html!(<style>{style}</style> {live_render::<Sticky>("sticky").sticky()}),
        )
    }
}

/// `Issue3656Live.Sticky`.
#[derive(Debug, Default)]
pub struct Sticky;

impl LiveView for Sticky {
    type Message = ();

    fn render(&self, _socket: &Socket) -> Rendered {
        html!(
            <nav>
                <a href="/issues/3656?navigated=true" data-phx-link="redirect" data-phx-link-state="push">"Link 1"</a>
            </nav>
        )
    }
}
